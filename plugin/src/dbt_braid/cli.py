"""The ``braid`` command: ``braid <dbt command> [dbt flags]``.

``run``, ``build`` and ``ls`` are braid's own; any other command passes straight to dbt,
in-process. Exit codes
follow dbt: 0 all succeeded, 1 a node failed, 2 the invocation or a declaration is invalid
(reported before anything runs, one line per problem, no traceback).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dbt_braid import __version__, console, listing
from dbt_braid.dbtcore.project import DbtOptions
from dbt_braid.errors import BraidUserError
from dbt_braid.execution.executors import DEFAULT_EXECUTOR
from dbt_braid.selection import SelectionRequest

USAGE = f"""braid {__version__}: dbt with Python assets.

usage: braid <command> [dbt flags]

  run      run the selected dbt models and Python assets in dependency order
  build    the same with seeds, snapshots and tests, as dbt build
  ls       list the selection across dbt nodes and Python assets (--output name|json|path)
  history  materializations of the selected nodes, newest first (-s, --output json)
  status   per node: last run, result, fresh or stale and why (-s; select status:stale)
  retry    run again exactly what failed or was skipped in the last run
  lineage  write the graph of dbt nodes and Python assets
           (--format json|mermaid|dot|html|openlineage)
  plugins  the braid plugins installed and loaded (--all adds the built-ins)
  <other>  any other dbt command (deps, seed, test, parse, ...) passes straight to dbt

braid <command> -h lists the flags of run, build and ls.
"""

DESCRIPTIONS = {
    "run": "Run dbt models and Python assets together, in dependency order.",
    "build": "Build seeds, snapshots, models, tests and Python assets, as dbt build.",
    "ls": "List the selected dbt nodes and Python assets, in dependency order.",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        name = self.prog.split()[-1]
        raise BraidUserError(f"braid {name}: {message}; see braid {name} -h")


def command_parser(command: str) -> argparse.ArgumentParser:
    """dbt's flags for ``command`` that braid reads itself; others go to dbt untouched."""
    p = _Parser(prog=f"braid {command}", description=DESCRIPTIONS[command])
    p.add_argument(
        "-s",
        "--select",
        "-m",
        "--models",
        nargs="+",
        action="extend",
        default=[],
        help="dbt selection syntax over dbt nodes and Python assets",
    )
    p.add_argument("--exclude", nargs="+", action="extend", default=[])
    p.add_argument("--selector", help="a selector defined in selectors.yml")
    p.add_argument("--state", help="artifacts of an earlier run, for state: and result:")
    p.add_argument("--indirect-selection", choices=["eager", "cautious", "buildable", "empty"])
    p.add_argument("-t", "--target")
    p.add_argument("--profiles-dir")
    p.add_argument("--project-dir")
    p.add_argument("--vars")
    if command in ("build", "ls"):
        for flag in ("--resource-type", "--resource-types"):
            p.add_argument(flag, dest="resource_types", nargs="+", action="extend", default=[])
        for flag in ("--exclude-resource-type", "--exclude-resource-types"):
            p.add_argument(
                flag, dest="exclude_resource_types", nargs="+", action="extend", default=[]
            )
    if command == "ls":
        p.add_argument("-o", "--output", choices=listing.OUTPUTS, default="selector")
        p.add_argument("--output-keys", nargs="+", action="extend", default=[])
    else:
        p.add_argument("--threads", type=int, help="dbt threads; Python assets in parallel too")
        p.add_argument("-f", "--full-refresh", action="store_true")
        p.add_argument("-x", "--fail-fast", action="store_true")
        p.add_argument("--executor", default=DEFAULT_EXECUTOR,
                       help="what runs the Python assets (a plugin's executor; default threads)")
    return p


def _resource_types(args: argparse.Namespace, default: frozenset[str]) -> tuple[str, ...]:
    chosen = set(getattr(args, "resource_types", []) or [])
    if "all" in chosen:
        chosen = set(listing.ALL_TYPES)
    types = chosen or set(default)
    types -= set(getattr(args, "exclude_resource_types", []) or [])
    unknown = types - listing.ALL_TYPES
    if unknown:
        raise BraidUserError(
            f"--resource-type: unknown {', '.join(sorted(unknown))}; "
            f"choose from {', '.join(sorted(listing.ALL_TYPES))}"
        )
    return tuple(sorted(types))


def _options_and_selection(
    command: str, argv: Sequence[str]
) -> tuple[argparse.Namespace, DbtOptions, SelectionRequest]:
    args, extra = command_parser(command).parse_known_args(list(argv))
    threads = getattr(args, "threads", None)
    if threads is not None and threads < 1:
        raise BraidUserError(f"braid {command}: --threads must be at least 1")
    if args.state:
        extra += ["--state", args.state]
    options = DbtOptions(
        args.project_dir, args.profiles_dir, args.target, args.vars, threads, tuple(extra)
    )
    types: tuple[str, ...] = ()
    if command == "ls":
        types = _resource_types(args, listing.DEFAULT_TYPES)
    elif command == "build" and (args.resource_types or args.exclude_resource_types):
        types = _resource_types(args, listing.ALL_TYPES)
    selection = SelectionRequest(
        args.select, args.exclude, args.selector, args.state, types, args.indirect_selection
    )
    return args, options, selection


def _report_unmatched(unmatched: Sequence[str]) -> None:
    for token in unmatched:
        console.say(f"The selection criterion '{token}' does not match any enabled nodes")


def _run_request(command: str, argv: Sequence[str]) -> tuple[DbtOptions, Any]:
    from dbt_braid import session

    args, options, selection = _options_and_selection(command, argv)
    request = session.RunRequest(
        command=command,
        selection=selection,
        threads=args.threads,
        full_refresh=args.full_refresh,
        fail_fast=args.fail_fast,
        argv=list(argv),
        executor=args.executor,
    )
    return options, request


def cmd_run(command: str, argv: Sequence[str]) -> int:
    from dbt_braid import session

    options, request = _run_request(command, argv)
    loaded = session.load(options, command)
    plan, unmatched = session.plan_run(loaded, request)
    _report_unmatched(unmatched)
    if not plan.order:
        console.say("Nothing to do. Try checking your model configs and model specification args")
        return 0
    report = session.execute(loaded, plan, request)
    return summarize(report)


def cmd_retry(argv: Sequence[str]) -> int:
    """Run again exactly what failed or was skipped in the last run, with its flags."""
    from dbt_braid import retry, session

    where = _Parser(prog="braid retry", description="Run again what failed or was skipped.")
    # as dbt retry: where the project is, and the flags a retry may change; the rest (the
    # selection above all) comes from the last run
    overrides = ("--project-dir", "--profiles-dir", "--target", "--threads", "--vars")
    for flag in overrides:
        where.add_argument(flag, *(["-t"] if flag == "--target" else []))
    where.add_argument("--fail-fast", "-x", action="store_true")
    mine = where.parse_args(list(argv))
    last = retry.last_run(Path(mine.project_dir or "."))
    command, old_argv = last.command, list(last.argv)
    for flag in overrides:
        value = getattr(mine, flag[2:].replace("-", "_"))
        if value is not None:
            old_argv += [flag, value]  # a repeated flag: the last one wins
    if mine.fail_fast:
        old_argv.append("--fail-fast")
    options, request = _run_request(command, old_argv)
    request.label = "retry"
    if not last.again:
        console.say("Nothing to retry: the last run had no failed or skipped nodes")
        return 0
    loaded = session.load(options, command)
    plan = retry.plan_retry(loaded, last, command)
    if not plan.order:
        console.say("Nothing to retry: the failed or skipped nodes are no longer in the project")
        return 0
    report = session.execute(loaded, plan, request)
    return summarize(report)


LINEAGE_FORMATS = {"json": "json", "mermaid": "mmd", "dot": "dot", "html": "html",
                   "openlineage": "openlineage.jsonl"}


def cmd_lineage(argv: Sequence[str]) -> int:
    """Write the unified graph (or the selected part of it) as JSON, Mermaid, Graphviz, a
    self-contained HTML page (with each node's last status from braid's history) or
    OpenLineage static lineage (one JobEvent per node that builds something)."""
    import json

    from dbt_braid import lineage_html, lineage_views, session
    from dbt_braid.builtins.lineage import lineage_payload

    parser = _Parser(
        prog="braid lineage", description="Write the graph of dbt nodes and Python assets."
    )
    parser.add_argument("--format", choices=sorted(LINEAGE_FORMATS), default="json")
    parser.add_argument(
        "-o", "--output", help="file to write (- for stdout); default target/braid/lineage.<ext>"
    )
    parser.add_argument("-s", "--select", nargs="+", action="extend", default=[])
    parser.add_argument("--exclude", nargs="+", action="extend", default=[])
    parser.add_argument("--selector")
    for flag in ("--project-dir", "--profiles-dir", "--vars"):
        parser.add_argument(flag)
    parser.add_argument("-t", "--target")
    args = parser.parse_args(list(argv))
    loaded = session.load(
        DbtOptions(args.project_dir, args.profiles_dir, args.target, args.vars), "ls"
    )
    payload = lineage_payload(loaded.graph)
    if args.select or args.exclude or args.selector:
        chosen, unmatched = session.select_nodes(
            loaded, SelectionRequest(args.select, args.exclude, args.selector)
        )
        _report_unmatched(unmatched)
        payload = lineage_views.restrict(payload, chosen)
    if args.format == "openlineage":
        from dbt_braid.builtins import openlineage

        kept = {n["unique_id"] for n in payload["nodes"]}
        text = openlineage.to_json_lines(
            openlineage.static_events(loaded.graph, loaded.project, kept))
    elif args.format == "mermaid":
        text = lineage_views.to_mermaid(payload)
    elif args.format == "dot":
        text = lineage_views.to_dot(payload)
    elif args.format == "html":
        statuses = None
        if "braid" in loaded.project.package_roots():
            try:
                rows = session.read_history(loaded)
            except Exception as exc:  # a picture of the graph is still worth writing
                console.say(f"braid lineage: history not read ({exc}); showing no history",
                            err=True)
                rows = []
            statuses = session.statuses(loaded, rows) if rows else None
        functions = {uid: asset.python for uid, asset in loaded.assets.items()}
        text = lineage_html.to_html(
            lineage_html.with_python_functions(payload, functions), statuses,
            f"braid lineage: {loaded.project.config.project_name}",
        )
    else:
        text = json.dumps(payload, indent=2) + "\n"
    if args.output == "-":
        sys.stdout.write(text)
        return 0
    out = (
        Path(args.output)
        if args.output
        else (loaded.project.target_dir / "braid" / f"lineage.{LINEAGE_FORMATS[args.format]}")
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    console.say(f"lineage ({args.format}, {len(payload['nodes'])} nodes): {out}")
    return 0


def cmd_history(command: str, argv: Sequence[str]) -> int:
    """``braid history`` (materializations, newest first) and ``braid status`` (freshness)."""
    from dbt_braid import session
    from dbt_braid.history import views

    parser = _Parser(prog=f"braid {command}", description=views.DESCRIPTIONS[command])
    parser.add_argument("-s", "--select", nargs="+", action="extend", default=[])
    parser.add_argument("--exclude", nargs="+", action="extend", default=[])
    parser.add_argument("--selector")
    parser.add_argument("-o", "--output", choices=["table", "json"], default="table")
    parser.add_argument("-n", "--limit", type=int, default=50 if command == "history" else 0)
    for flag in ("--project-dir", "--profiles-dir", "--vars"):
        parser.add_argument(flag)
    parser.add_argument("-t", "--target")
    args = parser.parse_args(list(argv))
    options = DbtOptions(args.project_dir, args.profiles_dir, args.target, args.vars)
    loaded = session.load(options, "ls")
    if "braid" not in loaded.project.package_roots():
        raise BraidUserError(
            f"braid {command}: the braid dbt package is not installed, so no "
            "history is kept; add it to packages.yml and run braid deps"
        )
    chosen = None
    if args.select or args.exclude or args.selector:
        selection = SelectionRequest(args.select, args.exclude, args.selector)
        chosen, unmatched = session.select_nodes(loaded, selection)
        _report_unmatched(unmatched)
    rows = session.read_history(loaded)
    if command == "history":
        lines = views.history_lines(rows, chosen, args.limit, args.output)
    else:
        found = session.statuses(loaded, rows)
        lines = views.status_lines(loaded.graph, found, chosen, args.output)
    for line in lines:
        print(line)
    return 0


def cmd_ls(argv: Sequence[str]) -> int:
    from dbt_braid import session

    args, options, selection = _options_and_selection("ls", argv)
    loaded = session.load(options, "ls")
    selected, unmatched = session.select_nodes(loaded, selection)
    graph = loaded.graph
    wanted = set(selection.resource_types)
    chosen = {u for u in selected if graph.nodes[u]["resource_type"] in wanted}
    _report_unmatched(unmatched)
    if not chosen:
        console.say("No nodes selected!")
        return 0
    order = listing.dependency_order(graph, chosen)
    for line in listing.render(
        order, graph, loaded.project.manifest, loaded.assets, args.output, args.output_keys
    ):
        print(line)
    return 0


def summarize(report: object) -> int:
    from dbt_braid.execution.results import RunReport

    assert isinstance(report, RunReport)
    counts: dict[str, int] = {}
    for r in report.results:
        counts[r.status] = counts.get(r.status, 0) + 1
    n_python = sum(1 for r in report.results if r.resource_type == "python")
    console.say("")
    console.say(
        f"braid: {len(report.results) - n_python} dbt nodes in {report.invocations} dbt "
        f"invocation(s) and {n_python} Python assets in {report.elapsed:.2f}s: "
        + ", ".join(f"{k}={v}" for k, v in sorted(counts.items()))
    )
    for r in report.results:
        if r.status in ("error", "fail"):
            console.say(f"  {r.status.upper()} {r.unique_id}: {r.message}")
    console.say(f"results: {report.target_dir / 'run_results.json'}")
    console.say(f"lineage: {report.target_dir / 'lineage.json'}")
    if report.interrupted:
        console.say("braid: interrupted (Ctrl-C); what had not started was skipped")
        # a Python asset still running is abandoned, not awaited: its write is one
        # transaction, so the old table stays; results and history say it did not finish
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(130)
    return 0 if report.success else 1


def passthrough(argv: Sequence[str]) -> int:
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke(list(argv))
    if result.success:
        return 0
    return 2 if result.exception is not None else 1


def cmd_plugins(argv: Sequence[str]) -> int:
    """``braid plugins``: what is loaded, its version and the hooks it implements."""
    import json

    from dbt_braid.plugin_host import get_plugin_manager

    parser = _Parser(prog="braid plugins", description="List the loaded braid plugins.")
    parser.add_argument("--all", action="store_true", help="the built-in plugins too")
    parser.add_argument("-o", "--output", choices=["table", "json"], default="table")
    for flag in ("--project-dir", "--profiles-dir"):  # accepted as everywhere; not needed
        parser.add_argument(flag, help=argparse.SUPPRESS)
    args = parser.parse_args(list(argv))
    plugins = [p for p in get_plugin_manager().describe() if args.all or not p.builtin]
    if args.output == "json":
        print(json.dumps([p.to_dict() for p in plugins], indent=2))
        return 0
    if not plugins:
        print("No third-party braid plugins are installed (braid plugins --all lists the "
              "built-ins).")
        return 0
    for p in plugins:
        version = f" {p.version}" if p.version else ""
        origin = f" from {p.distribution}{version}" if p.distribution else ""
        kind = " (built-in)" if p.builtin else ""
        print(f"{p.name}{origin}{kind}")
        print(f"  failed to load: {p.error}" if p.error else f"  hooks: {', '.join(p.hooks)}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if not argv or argv[0] in ("-h", "--help", "help"):
            print(USAGE)
            return 0
        if argv[0] in ("--version", "-V", "version"):
            from dbt_braid.dbtcore.versions import version_lines

            print(f"braid {__version__}")
            for line in version_lines():
                print(line)
            if argv[0] == "version":
                return passthrough(["--version"])
            return 0
        command, rest = argv[0], argv[1:]
        if command in ("run", "build"):
            return cmd_run(command, rest)
        if command in ("ls", "list"):
            return cmd_ls(rest)
        if command == "retry":
            return cmd_retry(rest)
        if command in ("history", "status"):
            return cmd_history(command, rest)
        if command == "lineage":
            return cmd_lineage(rest)
        if command == "plugins":
            return cmd_plugins(rest)
        return passthrough(argv)
    except BraidUserError as exc:
        for problem in exc.problems:
            print(str(problem), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("braid: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (braid ls | head): not an error; keep Python quiet at exit
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    finally:
        # DbtProject.parse froze the manifest for the garbage collector; hand it back so
        # that native extensions (DuckDB's) are torn down cleanly at exit
        gc.unfreeze()
