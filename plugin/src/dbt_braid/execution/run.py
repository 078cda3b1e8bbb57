"""One run, executed: IO opened, the engine driven, dbt's contracts kept, artifacts written.

:mod:`dbt_braid.session` loads, selects and plans (nothing runs there); :func:`execute` runs a
plan: dbt batches through :mod:`dbt_braid.dbtcore.project` with the project hooks once per
run, Python assets through the executor, then dbt's own run_results.json for the whole run
and braid's hooks (artifacts, history, lineage).
"""

from __future__ import annotations

import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from dbt_braid import console
from dbt_braid.console.stream import RunStream
from dbt_braid.dbtcore.node_events import relation_names
from dbt_braid.dbtcore.patches import HookPlan
from dbt_braid.dbtcore.project import DbtProject
from dbt_braid.errors import BraidUserError
from dbt_braid.execution.context import RunFlags
from dbt_braid.execution.dbt_results import batch_results, finished_event
from dbt_braid.execution.defer import deferred_inputs
from dbt_braid.execution.engine import Engine
from dbt_braid.execution.executors import (
    WithCompute,
    chosen_executor,
    collect_executors,
    is_remote,
    make_executor,
)
from dbt_braid.execution.python_runner import PythonRunner, now_iso, relation_of
from dbt_braid.execution.remote import RemoteCalls
from dbt_braid.execution.results import NodeResult, RunReport
from dbt_braid.execution.run_lock import one_run_at_a_time
from dbt_braid.execution.signals import StopFlag, stop_on_signals
from dbt_braid.execution.windows import planned_windows
from dbt_braid.graph import PYTHON
from dbt_braid.history.durations import node_durations
from dbt_braid.io.base import (
    ChecksAvailability,
    ChecksTarget,
    StoredRef,
    WindowWrites,
    supports,
)
from dbt_braid.partitions.plan import event_time_columns
from dbt_braid.planning.batches import Plan
from dbt_braid.planning.timing import batch_cost, refine
from dbt_braid.plugin_host import get_plugin_manager
from dbt_braid.session import (
    Loaded,
    RunRequest,
    check_imports,
    close_io,
    dbt_flags,
    empty_columns,
    flag_on,
    open_io,
    wants_empty,
)


def _check_io(
    plan: Plan, loaded: Loaded, io: dict[str, Any], refs: dict[str, tuple[StoredRef, str]]
) -> None:
    """Every IO manager the planned assets use exists here and can work (before anything runs)."""
    used: set[str] = set()
    for step in plan.python:
        asset = loaded.assets[step.unique_id]
        used.add(asset.io)
        used.update(refs[u][1] for u in asset.inputs.values() if u in refs)
    adapter = loaded.project.config.credentials.type
    for step in plan.python:
        asset = loaded.assets[step.unique_id]
        if asset.partitions is not None and not supports(io.get(asset.io), WindowWrites):
            raise BraidUserError(
                f"{asset.yaml_file}: {asset.label}: meta.braid.partitions: IO manager "
                f"{asset.io!r} cannot replace one window of a table on target type "
                f"{adapter!r}; use io: table, or remove partitions")
    table = io.get("table")
    if supports(table, ChecksAvailability):  # the warehouse itself, whatever the plan runs
        try:
            table.check_available()
        except ValueError as exc:
            raise BraidUserError(
                f"profiles.yml: target {loaded.project.config.target_name}: {exc}") from None
    for name in sorted(used):
        manager = io.get(name)
        if manager is None:
            raise BraidUserError(f"no IO manager {name!r} serves target type {adapter!r}")
        if supports(manager, ChecksTarget):
            try:
                manager.check()
            except ValueError as exc:
                raise BraidUserError(
                    f"profiles.yml: target {loaded.project.config.target_name}: {exc}"
                ) from None


def execute(loaded: Loaded, plan: Plan, request: RunRequest) -> RunReport:
    """Run the plan, holding the target's run lock throughout (refused at once without it)."""
    run_id = _run_id()
    label = request.label or request.command
    with one_run_at_a_time(loaded.project, f"braid {label}", run_id):
        return _execute(loaded, plan, request, run_id)


def _run_id() -> str:
    """A new run's id; ``BRAID_RUN_ID`` (a UUID) names it in advance, as ``braid serve``
    does for the runs it launches, so it can follow them from the first second."""
    given = os.environ.get("BRAID_RUN_ID", "")
    try:
        return str(uuid.UUID(given))
    except ValueError:
        return str(uuid.uuid4())


def _execute(loaded: Loaded, plan: Plan, request: RunRequest, run_id: str) -> RunReport:
    check_imports(loaded, plan)
    project = loaded.project
    graph = loaded.graph
    project.run_id = run_id
    t0 = time.perf_counter()
    report = _report(loaded, request, run_id, now_iso())
    io = open_io(loaded, run_id)
    refs: dict[str, tuple[StoredRef, str]] = {}
    for uid, data in graph.nodes(data=True):
        if data["kind"] == PYTHON:
            asset = loaded.assets[uid]
            refs[uid] = (StoredRef(uid, asset.name, asset.package_name, asset.relation), asset.io)
        elif data.get("relation"):
            refs[uid] = (
                StoredRef(uid, data["name"], data["package_name"], relation_of(data["relation"])),
                "table",
            )
    pm = get_plugin_manager()
    executors = collect_executors(pm)
    try:
        _check_io(plan, loaded, io, refs)
        executor, options = chosen_executor(request, project.project_root)
        executors.check(executor)
    except BaseException:
        close_io(io)
        raise
    stop = StopFlag()
    stream = RunStream(len(plan.order), loaded.assets, stopping=stop.is_set,
                       relation_names=relation_names(project.manifest, loaded.assets))
    threads = request.threads or int(project.config.threads or 1)
    try:
        plan = _timed(project, plan, io.get("table"))
        windows = planned_windows(loaded, plan, request, io.get("table"))
        made = make_executor(executors, executor, options, threads, plan)
    except BaseException:
        close_io(io)
        raise
    remote = (RemoteCalls(made, executor, project.relation_table)
              if made is not None and is_remote(made) else None)
    python = PythonRunner(
        refs=refs,
        io=io,
        run_id=run_id,
        target=project.target(),
        project_dir=project.project_root,
        before=lambda asset: pm.hook.before_python_asset(asset=asset, run_id=run_id),
        context_extras=_context_extras(project, request),
        empty=empty_columns(loaded, plan),
        deferred=deferred_inputs(loaded, plan, refs),
        favor_state=flag_on(project.options.extra, "favor-state"),
        windows=windows,
        event_times=event_time_columns(project.manifest, loaded.assets),
        threads=threads,
        rebuild=frozenset(uid for uid in windows if request.full_refresh
                          and uid not in (request.windows or {})),
        window_started=stream.window_started,
        window_finished=stream.window_finished,
        remote=remote,
    )

    def on_result(result: NodeResult) -> None:
        if result.resource_type == "python":
            pm.hook.after_python_asset(asset=loaded.assets[result.unique_id], result=result,
                                       run_id=run_id)

    def on_skip(result: NodeResult) -> None:
        stream.skipped(result, project.manifest.nodes.get(result.unique_id))

    flags = dbt_flags(request)
    dbt_results: list[Any] = []
    last_batch = len(plan.batches) - 1

    def run_batch(index: int, nodes: list[str], notify: Any) -> list[NodeResult]:
        console.debug(
            f"braid: dbt invocation {project.invocations + 1} "
            f"(batch {index + 1} of {len(plan.batches)}): {' '.join(nodes)}"
        )

        def callback(event: Any) -> None:
            name = event.info.name
            if name == "NodeFinished":
                info = event.data.node_info
                notify(info.unique_id, info.node_status)
                if info.unique_id in graph:
                    try:
                        pm.hook.after_dbt_node(run_id=run_id, result=finished_event(
                            event.data, graph, project.invocations - 1))
                    except Exception as exc:  # noqa: BLE001 - never the node's failure
                        console.warn(f"braid: after_dbt_node for {info.unique_id}: {exc}")
            elif name == "NodeStart":
                uid = event.data.node_info.unique_id
                if uid in graph:
                    pm.hook.before_dbt_node(run_id=run_id, unique_id=uid)

        pm.hook.before_dbt_batch(run_id=run_id, batch_index=index, unique_ids=list(nodes))
        hook_plan = HookPlan(
            start=not dbt_results,
            end=index == last_batch,
            earlier=tuple(r for batch in dbt_results for r in batch.results),
        )
        result = project.invoke(request.command, nodes, flags, [callback], hook_plan,
                                stream.stream_state)
        if getattr(result.result, "results", None) is not None:
            dbt_results.append(result.result)
        if isinstance(result.exception, KeyboardInterrupt) or stop.is_set():
            # dbt may swallow the KeyboardInterrupt (where it lands in dbt's code decides);
            # the flag set by braid's own handler does not get lost
            raise stop.exception()
        found = batch_results(result, nodes, project.invocations - 1, graph)
        pm.hook.after_dbt_batch(run_id=run_id, batch_index=index, results=found)
        return found

    engine = Engine(
        plan,
        graph,
        loaded.assets,
        python,
        run_batch,
        threads=threads,
        fail_fast=request.fail_fast,
        on_result=on_result,
        on_start=lambda uid: stream.python_started(uid, graph.nodes[uid]["name"]),
        on_finish=stream.python_finished,
        on_skip=on_skip,
        # with no Python asset to run, the engine's pool stays empty
        executor=lambda n: (WithCompute(n, made) if remote is not None and made is not None
                            else made or ThreadPoolExecutor(max_workers=1)),
    )
    engine_started = False
    try:
        pm.hook.start_run(run_id=run_id, command=request.label or request.command, plan=plan,
                          project=project, graph=graph, report=report,
                          warehouse=io.get("table"))
        stream.header(project, len(plan.python), threads)
        with stop_on_signals(stop):
            engine_started = True  # from here the engine shuts the executor down
            results = engine.run()
        if dbt_results and not engine.interrupted:
            _finish_hooks(project, request, dbt_results, flags, stream)
        stream.finish(results, dbt_results, project.manifest, loaded.assets,
                      time.perf_counter() - t0, engine.interrupted)
        write_dbt_run_results(
            project, request, dbt_results, results, time.perf_counter() - t0
        )
        if project.invocations == 0:
            # each dbt invocation wrote target/manifest.json with the assets' code versions;
            # a run of Python assets alone writes it itself, for a later --state
            project.write_manifest()
        report.results = results
        report.elapsed = round(time.perf_counter() - t0, 3)
        report.invocations = project.invocations
        report.interrupted = engine.interrupted
        report.stopped_by = stop.name if engine.interrupted else None
        report.target_dir.mkdir(parents=True, exist_ok=True)  # every writer may rely on it
        pm.hook.write_artifacts(report=report)
        pm.hook.record_run(report=report, project=project, warehouse=io.get("table"))
        pm.hook.emit_lineage(report=report, project=project)
        pm.hook.finish_run(report=report)
    finally:
        close_io(io)
        if made is not None and not engine_started:
            made.shutdown(wait=False, cancel_futures=True)
    return report


def _timed(project: DbtProject, plan: Plan, warehouse: Any) -> Plan:
    """The plan with a batch split where history says waiting for a Python asset costs more
    than one more invocation (planning.timing); ``--debug`` says why each batch is what it
    is. A plan whose batches wait for no Python asset reads no history."""
    waits = any(batch.needs_python for batch in plan.batches)
    durations = node_durations(project, warehouse, plan.order) if waits else {}
    cost = batch_cost(len(project.manifest.nodes) + len(project.manifest.sources))
    timed = refine(plan, durations, cost)
    for line in timed.reasons:
        console.debug(f"braid: {line}")
    return timed.plan


def _context_extras(project: DbtProject, request: RunRequest) -> Any:
    """``context.vars``, ``context.flags`` and ``context.ref``/``source`` for each asset."""
    flags = RunFlags(
        full_refresh=request.full_refresh,
        empty=wants_empty(project),
        target=project.config.target_name,
        command=request.command,
    )
    return lambda asset: {
        "vars": project.asset_vars(asset.package_name),
        "flags": flags,
        "_relations": project.relation_sql,
    }


def _finish_hooks(
    project: DbtProject, request: RunRequest, dbt_results: list[Any], flags: list[str],
    stream: RunStream,
) -> None:
    """The project's on-run-end hooks, when the last planned batch did not run them (it was
    skipped entirely): one more invocation that runs the hooks and no node."""
    ran_end = any(
        str(getattr(r.node, "unique_id", "")).startswith("operation.")
        and "on-run-end" in (getattr(r.node, "tags", None) or [])
        for batch in dbt_results for r in batch.results
    )
    if ran_end or not project.has_hooks("on-run-end"):
        return
    some_node = next(r.node.unique_id for batch in dbt_results for r in batch.results
                     if not r.node.unique_id.startswith("operation."))
    earlier = tuple(r for batch in dbt_results for r in batch.results)
    result = project.invoke(request.command, [some_node], flags, (),
                            HookPlan(start=False, end=True, earlier=earlier, nodes=False),
                            stream.stream_state)
    if getattr(result.result, "results", None) is not None:
        dbt_results.append(result.result)


def write_dbt_run_results(
    project: DbtProject,
    request: RunRequest,
    batches: list[Any],
    results: list[NodeResult],
    elapsed: float,
) -> None:
    """dbt's target/run_results.json for the whole run (dbtcore.artifacts says why)."""
    from dbt_braid.dbtcore import artifacts

    reported = {r.node.unique_id for batch in batches for r in batch.results}
    manifest = project.manifest
    skipped = [
        artifacts.skipped_result(manifest.nodes[r.unique_id], r.message or "skipped")
        for r in results
        if r.resource_type != "python" and r.unique_id not in reported
        and r.unique_id in manifest.nodes
    ]
    selection = request.selection
    args: dict[str, Any] = {
        "which": request.command,
        "select": list(selection.select),
        "exclude": list(selection.exclude),
        "vars": project.options.user_vars(),
        "invocation_command": " ".join(["braid", request.command, *request.argv]),
    }
    if selection.selector:
        args["selector"] = selection.selector
    artifacts.write_run_results(
        project.target_dir / "run_results.json", batches, skipped, args, round(elapsed, 3)
    )


def _report(loaded: Loaded, request: RunRequest, run_id: str, started: str) -> RunReport:
    """The run's report as it starts: results, times and counts are filled in at its end."""
    project = loaded.project
    return RunReport(
        run_id=run_id,
        command=request.label or request.command,
        started_at=started,
        elapsed=0.0,
        results=[],
        graph=loaded.graph,
        target_dir=project.target_dir / "braid",
        args={
            "select": list(request.selection.select),
            "exclude": list(request.selection.exclude),
            "selector": request.selection.selector,
            "command": request.command,
            "argv": list(request.argv),
            **({"retry_of": request.retry_of} if request.retry_of else {}),
            **({"schedule": request.schedule} if request.schedule else {}),
        },
    )
