"""One run, in phases, under the target's run lock: prepare, the engine, finish.

:mod:`.session` has loaded, selected and planned (nothing runs there). :func:`execute` takes
the run lock, imports the planned assets' modules, opens the IO managers for the whole run
(:func:`dbt_braid.io.base.opened` closes them however the run ends), then

1. :func:`.prepare.prepare`: refs, IO checks, the executor, the final plan (timing and
   windows), printed with ``--debug``;
2. the engine (:class:`dbt_braid.execution.engine.Engine`): dbt batches on this thread
   (:class:`dbt_braid.execution.dbt_batches.DbtBatches`), Python assets in the executor;
3. :func:`.finish.finish`: dbt's run_results and summary, the manifest, braid's hooks.
"""

from __future__ import annotations

import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from dbt_braid.core.results import NodeResult, RunReport
from dbt_braid.dbtcore.node_events import relation_names
from dbt_braid.execution.dbt_batches import DbtBatches
from dbt_braid.execution.engine import Engine
from dbt_braid.execution.executors import WithCompute, collect_executors, is_remote
from dbt_braid.execution.python_runner import PythonRunner, now_iso
from dbt_braid.execution.remote import RemoteCalls
from dbt_braid.execution.run_lock import one_run_at_a_time
from dbt_braid.execution.signals import StopFlag, stop_on_signals
from dbt_braid.execution.stream import RunStream
from dbt_braid.io.base import opened
from dbt_braid.planning.batches import Plan
from dbt_braid.planning.windows import event_time_columns
from dbt_braid.plugin_host import get_plugin_manager
from dbt_braid.run.finish import finish
from dbt_braid.run.prepare import Prepared, context_extras, favor_state, prepare, start_report
from dbt_braid.run.request import RunRequest, dbt_flags
from dbt_braid.run.session import Loaded, check_imports


def execute(loaded: Loaded, plan: Plan, request: RunRequest) -> RunReport:
    """Run the plan, holding the target's run lock throughout (refused at once without it)."""
    run_id = _run_id()
    label = request.label or request.command
    with one_run_at_a_time(loaded.project, f"braid {label}", run_id):
        check_imports(loaded, plan)
        loaded.project.run_id = run_id
        started = time.perf_counter()
        report = start_report(loaded, request, run_id, now_iso())
        with opened(loaded.io_registry, loaded.project.io_env(run_id)) as io:
            pm = get_plugin_manager()
            prepared = prepare(loaded, plan, request, io, collect_executors(pm))
            _run(loaded, prepared, request, report, io, pm, started)
        return report


def _run(loaded: Loaded, prepared: Prepared, request: RunRequest, report: RunReport,
         io: dict[str, Any], pm: Any, started: float) -> None:
    """The engine over the prepared plan, then the finish; the executor is the engine's to
    shut down once it has started, this function's before."""
    project, graph, plan, made = loaded.project, loaded.graph, prepared.plan, prepared.executor
    stop = StopFlag()
    stream = RunStream(len(plan.order), loaded.assets, stopping=stop.is_set,
                       relation_names=relation_names(project.manifest, loaded.assets))
    engine_started = False
    try:
        python = _python_runner(loaded, prepared, request, report.run_id, io, pm, stream)
        dbt = DbtBatches(project, graph, pm, report.run_id, request.command,
                         dbt_flags(request), plan, stream.stream_state, stop)
        engine = _engine(loaded, prepared, request, python, dbt, stream, pm)
        pm.hook.start_run(run_id=report.run_id, command=request.label or request.command,
                          plan=plan, project=project, graph=graph, report=report,
                          warehouse=io.get("table"))
        stream.header(project, len(plan.python), prepared.threads)
        with stop_on_signals(stop):
            engine_started = True  # from here the engine shuts the executor down
            results = engine.run()
        finish(loaded, request, report, results, engine, dbt, stream, stop, started, pm,
               io.get("table"))
    finally:
        if made is not None and not engine_started:
            made.shutdown(wait=False, cancel_futures=True)


def _python_runner(loaded: Loaded, prepared: Prepared, request: RunRequest, run_id: str,
                   io: dict[str, Any], pm: Any, stream: RunStream) -> PythonRunner:
    """Loads each Python asset's inputs, calls it (here, or in a remote executor's worker)
    and stores its result."""
    project, made = loaded.project, prepared.executor
    remote = (RemoteCalls(made, prepared.executor_name, project.relation_table)
              if made is not None and is_remote(made) else None)
    windows = prepared.windows
    return PythonRunner(
        refs=prepared.refs,
        io=io,
        run_id=run_id,
        target=project.target(),
        project_dir=project.project_root,
        before=lambda asset: pm.hook.before_python_asset(asset=asset, run_id=run_id),
        context_extras=context_extras(project, request),
        empty=prepared.empty,
        deferred=prepared.deferred,
        favor_state=favor_state(project),
        windows=windows,
        event_times=event_time_columns(project.manifest, loaded.assets),
        threads=prepared.threads,
        rebuild=frozenset(uid for uid in windows if request.full_refresh
                          and uid not in (request.windows or {})),
        window_started=stream.window_started,
        window_finished=stream.window_finished,
        remote=remote,
    )


def _engine(loaded: Loaded, prepared: Prepared, request: RunRequest, python: PythonRunner,
            dbt: DbtBatches, stream: RunStream, pm: Any) -> Engine:
    """The scheduler over the final plan, with the hooks and console lines around each node."""
    graph, made, run_id = loaded.graph, prepared.executor, dbt.run_id
    remote = python.remote

    def on_result(result: NodeResult) -> None:
        if result.resource_type == "python":
            pm.hook.after_python_asset(asset=loaded.assets[result.unique_id], result=result,
                                       run_id=run_id)

    def on_skip(result: NodeResult) -> None:
        stream.skipped(result, loaded.project.manifest.nodes.get(result.unique_id))

    return Engine(
        prepared.plan,
        graph,
        loaded.assets,
        python,
        dbt,
        threads=prepared.threads,
        fail_fast=request.fail_fast,
        on_result=on_result,
        on_start=lambda uid: stream.python_started(uid, graph.nodes[uid]["name"]),
        on_finish=stream.python_finished,
        on_skip=on_skip,
        ephemeral_cause_holds=request.command != "build",
        # with no Python asset to run, the engine's pool stays empty
        executor=lambda n: (WithCompute(n, made) if remote is not None and made is not None
                            else made or ThreadPoolExecutor(max_workers=1)),
    )


def _run_id() -> str:
    """A new run's id; ``BRAID_RUN_ID`` (a UUID) names it in advance, as ``braid serve``
    does for the runs it launches, so it can follow them from the first second."""
    given = os.environ.get("BRAID_RUN_ID", "")
    try:
        return str(uuid.UUID(given))
    except ValueError:
        return str(uuid.uuid4())
