"""``braid schedules`` (what is scheduled, when it is next due, how it last went) and
``braid run --due`` (one run of each schedule that is due, then exit)."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from dbt_braid import console
from dbt_braid.cli.flags import Parser, add_project_flags, project_options, use_dbt_flags
from dbt_braid.core.errors import BraidUserError
from dbt_braid.schedules.status import due, schedule_rows

#: the flags that say which project, profile and target; a due run keeps them
WHERE = ("--project-dir", "--profiles-dir", "--profile", "--target")


def _where(prog: str, argv: Sequence[str], parser: Any = None) -> tuple[Any, list[str]]:
    if parser is None:
        parser = Parser(prog=prog)
        parser.add_argument("-o", "--output", choices=["table", "json"], default="table")
        if prog == "braid run --due":
            parser.add_argument("--schedule", help="only this schedule, when it is due (one "
                                "that never ran is: the caller, e.g. cron, keeps its clock)")
            parser.add_argument("--dry-run", action="store_true",
                                help="print what is due and what each run would select; "
                                "run nothing")
    add_project_flags(parser, with_vars=False)
    args = parser.parse_args(list(argv))
    passed = []
    for flag in WHERE:
        value = getattr(args, flag[2:].replace("-", "_"))
        if value is not None:
            passed += [flag, value]
    return args, passed + args.dbt_flags  # dbt's global flags reach each due run too


def _load(args: Any, history: bool = True) -> tuple[Any, list[Any], list[dict[str, Any]]]:
    """The project, its schedules (or every problem, exit 2) and its recorded runs."""
    from dbt_braid.history import queries
    from dbt_braid.run import session
    from dbt_braid.schedules import config

    loaded = session.load(project_options(args), "ls")
    use_dbt_flags(args)
    selectors = getattr(loaded.project.config, "selectors", None) or {}
    schedules = config.load(loaded.project.project_root, list(selectors))
    runs: list[dict[str, Any]] = []
    if history and schedules and "braid" in loaded.project.package_roots():
        runs = queries.read_runs(loaded.project, loaded.io_registry)
    return loaded, schedules, runs


def cmd_schedules(argv: Sequence[str]) -> int:
    from dbt_braid.history.views import table
    from dbt_braid.schedules import clock, seen

    if argv[:1] == ["export"]:
        return cmd_export(argv[1:])
    args, _ = _where("braid schedules", argv)
    loaded, schedules, runs = _load(args)
    if not schedules:
        console.say("No schedules: add them to braid.yml (see README: Schedules)")
        return 0
    now = clock.now()
    rows = schedule_rows(schedules, runs, now, seen.of_project(loaded.project, schedules, now))
    if args.output == "json":
        for row in rows:
            print(json.dumps(row))
        return 0
    for line in table(["schedule", "cron", "runs", "next (UTC)", "due", "last run", "result"],
                      [[r["name"], f"{r['cron']} {r['timezone']}", r["runs"], r["next"][:16],
                        "yes" if r["due"] else "no", r["last_run"] or "never",
                        r["last_result"] or ""] for r in rows]):
        print(line)
    return 0


def cmd_due(argv: Sequence[str]) -> int:
    """One run of each due schedule, in braid.yml's order; exit 1 when one failed."""
    from dbt_braid.cli.commands import cmd_run
    from dbt_braid.schedules import clock, seen

    args, passed = _where("braid run --due", argv)
    loaded, schedules, runs = _load(args)
    if "braid" not in loaded.project.package_roots() and schedules:
        raise BraidUserError("braid run --due: the braid dbt package is not installed, so "
                             "no run is recorded and every schedule would always be due; "
                             "add it to packages.yml and run braid deps")
    now = clock.now()
    first_seen = seen.of_project(loaded.project, schedules, now)  # all: the rest forgotten
    if args.schedule is not None:
        named = [s for s in schedules if s.name == args.schedule]
        if not named:
            known = ", ".join(s.name for s in schedules) or "none"
            raise BraidUserError(f"braid run --due --schedule: no schedule {args.schedule!r} "
                                 f"in braid.yml (defined: {known})")
        # the caller keeps the clock (crontab, a CronJob, Airflow call it at its tick, as
        # the exports do): a schedule that never ran has no first tick to wait for
        schedules = [replace(s, catch_up=True) for s in named]
    found = due(schedules, runs, now, first_seen)
    late = _overdue(loaded) if args.schedule is None else []
    if not found and not late:
        upcoming = min(((clock.next_tick(s.cron, s.timezone, now), s.name) for s in schedules),
                       default=None)
        after = (f"; next: {upcoming[1]} at {upcoming[0].isoformat(timespec='minutes')}"
                 if upcoming else "")
        console.say(f"Nothing due ({len(schedules)} schedule"
                    f"{'' if len(schedules) == 1 else 's'}, no overdue asset{after})")
        return 0
    overdue_select = _overdue_selection(loaded) if late else []
    if args.dry_run:
        return _dry_run(loaded, found, late, overdue_select)
    # each run gets its own id (braid serve names only the process it launches)
    os.environ.pop("BRAID_RUN_ID", None)
    code = 0
    for s in found:
        console.say(f"braid run --due: schedule {s.name}: braid {s.describe()}")
        try:
            result = cmd_run(s.command, [*s.argv(), *passed], schedule=s.name)
        except BraidUserError as exc:
            if "braid runs one run at a time" not in str(exc):
                raise
            # the target is being run: this schedule stays due for the next call
            console.say(f"braid run --due: schedule {s.name} left for the next call: {exc}")
            continue
        code = max(code, result)
    if late:
        # overdue by their freshness policies: them, and what upstream of them is stale
        console.say(f"braid run --due: overdue: {', '.join(late)}")
        try:
            code = max(code, cmd_run("run", ["--select", *overdue_select, *passed],
                                     schedule=OVERDUE))
        except BraidUserError as exc:
            if "braid runs one run at a time" not in str(exc):
                raise
            console.say(f"braid run --due: overdue assets left for the next call: {exc}")
    return code


#: the schedule name history records for runs of overdue assets (not a valid braid.yml name)
OVERDUE = "(overdue)"


def _overdue_selection(loaded: Any) -> list[str]:
    """The overdue nodes and what upstream of them is stale, as a selection; the second
    criterion only when it matches something (dbt would warn that it matches nothing)."""
    from dbt_braid.run import session
    from dbt_braid.selection.select import SelectionRequest

    upstream = "+status:overdue,status:stale"
    chosen, _ = session.select_nodes(loaded, SelectionRequest([upstream]))
    return ["status:overdue", upstream] if chosen else ["status:overdue"]


def _dry_run(loaded: Any, found: Sequence[Any], late: Sequence[str],
             overdue_select: Sequence[str]) -> int:
    """What ``braid run --due`` would run now, and nothing run (exit 0)."""
    from dbt_braid.planning.batches import make_plan
    from dbt_braid.run import session
    from dbt_braid.selection.select import SelectionRequest

    for s in found:
        request = SelectionRequest(list(s.select), list(s.exclude), s.selector)
        chosen, _ = session.select_nodes(loaded, request)
        plan = make_plan(loaded.graph, chosen, session.runnable_types(s.command))
        names = [loaded.graph.nodes[u].get("name", u) for u in plan.order]
        console.say(f"braid run --due --dry-run: schedule {s.name} would run: braid "
                    f"{s.describe()} ({_count(names)}: {', '.join(names) or 'nothing'})")
    if late:
        console.say(f"braid run --due --dry-run: overdue would run: braid run --select "
                    f"{' '.join(overdue_select)} (overdue: {', '.join(late)})")
    console.say("braid run --due --dry-run: nothing was run")
    return 0


def _count(names: Sequence[str]) -> str:
    return f"{len(names)} node{'' if len(names) == 1 else 's'}"


def _overdue(loaded: Any) -> list[str]:
    """Names of the nodes overdue by their freshness policies (none without history)."""
    from dbt_braid.history import queries

    project = loaded.project
    if "braid" not in project.package_roots() or not queries.policies(
            project, loaded.graph, loaded.assets):
        return []
    rows = queries.read_history(project, loaded.io_registry)
    found = queries.statuses(project, loaded.graph, loaded.assets, rows)
    return sorted(s.name for s in found.values() if s.overdue)


def cmd_export(argv: Sequence[str]) -> int:
    """``braid schedules export --format crontab|github-actions|kubernetes|airflow``."""
    import shutil
    import sys
    from pathlib import Path

    from dbt_braid.schedules import export

    parser = Parser(prog="braid schedules export",
                    description="Write braid.yml's schedules for another scheduler.")
    parser.add_argument("--format", required=True, choices=export.FORMATS)
    parser.add_argument("-o", "--output", help="file to write (default: standard output)")
    parser.add_argument("--image", default="ghcr.io/your-org/your-dbt-project:latest",
                        help="kubernetes: the image holding dbt-braid and this project")
    parser.add_argument("--workdir", help="the project's folder where the job runs "
                        "(default: here, or /project in the kubernetes image)")
    args, _ = _where("braid schedules export", argv, parser)
    _, schedules, _ = _load(args, history=False)
    if not schedules:
        raise BraidUserError("braid schedules export: braid.yml has no schedules")
    root = str(Path(args.project_dir or ".").resolve())
    braid = shutil.which("braid") or str(Path(sys.executable).with_name("braid"))
    if args.format == "crontab":
        text = export.to_crontab(schedules, args.workdir or root, braid)
    elif args.format == "github-actions":
        text = export.to_github_actions(schedules, args.workdir or ".")
    elif args.format == "kubernetes":
        text = export.to_kubernetes(schedules, args.workdir or "/project", args.image)
    else:
        text = export.to_airflow(schedules, args.workdir or root, braid)
    if args.output:
        Path(args.output).write_text(text)
        console.say(f"braid schedules export ({args.format}, {len(schedules)} schedules): "
                    f"{args.output}")
    else:
        sys.stdout.write(text)
    return 0
