"""braid's own commands: run/build (and seed, snapshot, test on the same path), retry, ls,
lineage, history/status, plugins; any other command passes to dbt."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dbt_braid import console
from dbt_braid.cli.flags import (
    Parser,
    add_project_flags,
    options_and_selection,
    project_options,
    run_request,
    use_dbt_flags,
    warn_error_applies,
)
from dbt_braid.core.errors import BraidUserError
from dbt_braid.dbtcore import loggers
from dbt_braid.dbtcore.project import DbtOptions
from dbt_braid.execution.executors import warm_up
from dbt_braid.run.execute import execute
from dbt_braid.selection.select import SelectionRequest
from dbt_braid.view import listing


def _report_unmatched(unmatched: Sequence[str], dbt_flags: Sequence[str] = ()) -> None:
    """dbt's warning for each selection criterion that matched nothing; with
    ``--warn-error`` (or ``--warn-error-options`` naming it) dbt's error and exit 2."""
    for token in unmatched:
        console.say(f"The selection criterion '{token}' does not match any enabled nodes")
    if unmatched and warn_error_applies(dbt_flags, "NoNodesForSelectionCriteria"):
        raise BraidUserError(
            "Compilation Error: the selection matched nothing and --warn-error makes that "
            "an error (as dbt does)"
        )



def cmd_run(command: str, argv: Sequence[str], schedule: str | None = None) -> int:
    from dbt_braid.run import session

    options, request = run_request(command, argv)
    request.schedule = schedule
    if command in session.RUNS_PYTHON:
        warm_up(request, options.project_dir)  # worker processes start while dbt parses
    loaded = session.load(options, command)
    if command == "test":
        _check_python_names(loaded, request.selection)
    loggers.use_dbt_events(command, argv)
    plan, unmatched = session.plan_run(loaded, request)
    _report_unmatched(unmatched, options.extra)
    if not plan.order:
        console.say("Nothing to do. Try checking your model configs and model specification args")
        return 0
    report = execute(loaded, plan, request)
    return summarize(report)


def cmd_retry(argv: Sequence[str]) -> int:
    """Run again exactly what failed or was skipped in the last run, with its flags."""
    from dbt_braid.run import retry, session

    where = Parser(prog="braid retry", description="Run again what failed or was skipped.")
    # as dbt retry: where the project is, and the flags a retry may change; the rest (the
    # selection above all) comes from the last run
    overrides = ("--project-dir", "--profiles-dir", "--profile", "--target", "--threads",
                 "--vars")
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
    old_argv += mine.dbt_flags  # dbt's global flags (-q, --no-use-colors...) for this run
    options, request = run_request(command, old_argv)
    request.label = "retry"
    request.retry_of = last.run_id
    request.windows = last.windows
    if not last.again:
        use_dbt_flags(mine)
        console.say("Nothing to retry: the last run had no failed or skipped nodes")
        return 0
    warm_up(request, options.project_dir)
    loaded = session.load(options, command)
    loggers.use_dbt_events(command, old_argv)
    plan = retry.plan_retry(loaded, last, command)
    session.check_shared_tables(loaded, plan, request)
    if not plan.order:
        console.say("Nothing to retry: the failed or skipped nodes are no longer in the project")
        return 0
    report = execute(loaded, plan, request)
    return summarize(report)


LINEAGE_FORMATS = {"json": "json", "mermaid": "mmd", "dot": "dot", "html": "html",
                   "openlineage": "openlineage.jsonl"}


def cmd_lineage(argv: Sequence[str]) -> int:
    """Write the unified graph (or the selected part of it) as JSON, Mermaid, Graphviz, a
    self-contained HTML page (with each node's last status from braid's history) or
    OpenLineage static lineage (one JobEvent per node that builds something)."""
    import json

    from dbt_braid.emit.lineage import lineage_payload
    from dbt_braid.run import session
    from dbt_braid.view import lineage as lineage_views

    parser = Parser(
        prog="braid lineage", description="Write the graph of dbt nodes and Python assets."
    )
    parser.add_argument("--format", choices=sorted(LINEAGE_FORMATS), default="json")
    parser.add_argument(
        "-o", "--output", help="file to write (- for stdout); default target/braid/lineage.<ext>"
    )
    parser.add_argument("-s", "--select", nargs="+", action="extend", default=[])
    parser.add_argument("--exclude", nargs="+", action="extend", default=[])
    parser.add_argument("--selector")
    add_project_flags(parser)
    args = parser.parse_args(list(argv))
    loaded = session.load(project_options(args), "ls")
    use_dbt_flags(args)
    payload = lineage_payload(loaded.graph)
    if args.select or args.exclude or args.selector:
        chosen, unmatched = session.select_nodes(
            loaded, SelectionRequest(args.select, args.exclude, args.selector)
        )
        _report_unmatched(unmatched, args.dbt_flags)
        payload = lineage_views.restrict(payload, chosen)
    if args.format == "openlineage":
        from dbt_braid.emit import openlineage as openlineage_events

        kept = {n["unique_id"] for n in payload["nodes"]}
        text = openlineage_events.to_json_lines(
            openlineage_events.static_events(loaded.graph, loaded.project, kept))
    elif args.format == "mermaid":
        text = lineage_views.to_mermaid(payload)
    elif args.format == "dot":
        text = lineage_views.to_dot(payload)
    elif args.format == "html":
        # the catalog's page, opened on its graph (braid catalog writes the same page)
        from dbt_braid.catalog import page
        from dbt_braid.catalog.collect import collect

        data = collect(loaded)
        if args.select or args.exclude or args.selector:
            data = restrict_catalog(data, {n["unique_id"] for n in payload["nodes"]})
        text = page.to_html(data)
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


def restrict_catalog(data: dict, kept: set[str]) -> dict:
    """The catalog's data with only the ``kept`` nodes (and the edges between them)."""
    return {**data, "nodes": [n for n in data["nodes"] if n["unique_id"] in kept],
            "edges": [e for e in data["edges"] if e[0] in kept and e[1] in kept]}


def cmd_catalog(argv: Sequence[str]) -> int:
    """``braid catalog``: one offline page of every node (graph, a page per node with its
    history, plots, columns and code) and the recent runs on a timeline."""
    from dbt_braid.catalog import page
    from dbt_braid.catalog.collect import collect
    from dbt_braid.run import session

    parser = Parser(prog="braid catalog", description="Write the asset catalog, one HTML file.")
    parser.add_argument("-o", "--output", help="file to write; default target/braid/catalog.html")
    add_project_flags(parser)
    args = parser.parse_args(list(argv))
    loaded = session.load(project_options(args), "ls")
    use_dbt_flags(args)
    data = collect(loaded)
    out = Path(args.output) if args.output else loaded.project.target_dir / "braid" / (
        "catalog.html")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page.to_html(data))
    console.say(f"catalog ({len(data['nodes'])} nodes, {len(data['runs'])} runs): {out}")
    return 0


def cmd_history(command: str, argv: Sequence[str]) -> int:
    """``braid history`` (materializations, newest first) and ``braid status`` (freshness)."""
    from dbt_braid.history import queries, views
    from dbt_braid.run import session

    parser = Parser(prog=f"braid {command}", description=views.DESCRIPTIONS[command])
    parser.add_argument("-s", "--select", nargs="+", action="extend", default=[])
    parser.add_argument("--exclude", nargs="+", action="extend", default=[])
    parser.add_argument("--selector")
    parser.add_argument("-o", "--output", choices=["table", "json"], default="table")
    parser.add_argument("-n", "--limit", type=int, default=50 if command == "history" else 0)
    add_project_flags(parser)
    args = parser.parse_args(list(argv))
    loaded = session.load(project_options(args), "ls")
    use_dbt_flags(args)
    if "braid" not in loaded.project.package_roots():
        raise BraidUserError(
            f"braid {command}: the braid dbt package is not installed, so no "
            "history is kept; add it to packages.yml and run braid deps"
        )
    chosen = None
    if args.select or args.exclude or args.selector:
        selection = SelectionRequest(args.select, args.exclude, args.selector)
        chosen, unmatched = session.select_nodes(loaded, selection)
        _report_unmatched(unmatched, args.dbt_flags)
    rows = queries.read_history(loaded.project, loaded.io_registry)
    runs = queries.read_runs(loaded.project, loaded.io_registry)
    if command == "history":
        lines = views.history_lines(rows, chosen, args.limit, args.output, runs)
    else:
        found = queries.statuses(loaded.project, loaded.graph, loaded.assets, rows)
        lines = views.status_lines(loaded.graph, found, chosen, args.output, runs)
    for line in lines:
        print(line)
    return 0


def cmd_ls(argv: Sequence[str]) -> int:
    from dbt_braid.run import session

    args, options, selection = options_and_selection("ls", argv)
    loaded = session.load(options, "ls")
    loggers.use_dbt_events("list", argv)  # -q, --no-use-colors, --log-format... as dbt ls
    selected, unmatched = session.select_nodes(loaded, selection)
    graph = loaded.graph
    wanted = set(selection.resource_types)
    chosen = {u for u in selected if graph.nodes[u]["resource_type"] in wanted}
    _report_unmatched(unmatched, options.extra)
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
    from dbt_braid.core.results import RunReport

    assert isinstance(report, RunReport)
    # dbt's summary for the whole run is printed already (execution.stream)
    console.debug(f"braid: results in {report.target_dir / 'run_results.json'}, lineage in "
                  f"{report.target_dir / 'lineage.json'}; {report.invocations} dbt invocations")
    if report.interrupted:
        console.say(f"braid: stopped by {report.stopped_by or 'Ctrl-C'}; what had not started "
                    "was skipped, what was being written was finished and recorded")
        # a Python asset still running is abandoned, not awaited: its write is one
        # transaction, so the old table stays; results and history say it did not finish
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(143 if report.stopped_by == "SIGTERM" else 130)
    if report.hook_error is not None:
        return 2  # dbt's exit code for an error outside the nodes (a failing on-run-end)
    return 0 if report.success else 1


def _project_options(command: str, argv: Sequence[str]) -> DbtOptions:
    """Where the project is, from a dbt command's flags (the rest is dbt's to read)."""
    where = Parser(prog=f"braid {command}", add_help=False)
    add_project_flags(where)
    known, _ = where.parse_known_args(list(argv))
    return project_options(known)


def cmd_docs_generate(argv: Sequence[str]) -> int:
    """``dbt docs generate`` on the manifest braid parsed, so the manifest.json it writes
    carries the Python assets' edges (dbt docs shows an unbroken lineage)."""
    from dbt.cli.main import dbtRunner

    from dbt_braid.run import session

    loaded = session.load(_project_options("docs", argv), "ls")
    result = dbtRunner(manifest=loaded.project.manifest).invoke(["docs", "generate", *argv])
    if result.success:
        return 0
    return 2 if result.exception is not None else 1


def cmd_test(argv: Sequence[str]) -> int:
    """``dbt test`` on braid's run path (recorded in history; no Python asset runs), where
    ``python:NAME`` selects the tests on an asset's table (dbt knows the asset as its
    declaring source or exposure)."""
    return cmd_run("test", argv)


def _check_python_names(loaded: Any, selection: SelectionRequest) -> None:
    """``python:NAME`` naming no asset is a mistake in the command (exit 2), not an empty
    selection: ``braid test`` has no other way to say which asset's tests it means."""
    import re
    from fnmatch import fnmatch

    names = [a.name for a in loaded.assets.values()]
    for arg in [*selection.select, *selection.exclude]:
        for pattern in re.findall(r"(?<![\w.])python:([\w*?\[\]-]+)", arg):
            if not any(fnmatch(name, pattern) for name in names):
                raise BraidUserError(f"braid test: no Python asset matches python:{pattern}")


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

    parser = Parser(prog="braid plugins", description="List the loaded braid plugins.")
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


