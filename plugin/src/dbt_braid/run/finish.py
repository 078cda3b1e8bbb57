"""A run's last phase: what it leaves behind once the engine has stopped.

dbt's own contracts first: the project's on-run-end hooks if no batch ran them, dbt's
end-of-run summary over every node, ``target/run_results.json`` for the whole run (so
``dbt retry`` and ``result:`` work after a braid run) and the manifest when no dbt
invocation wrote one. Then braid's hooks, in order: ``write_artifacts``, ``record_run``,
``emit_lineage``, ``finish_run``.
"""

from __future__ import annotations

import time
from typing import Any

from dbt_braid.core.results import NodeResult, RunReport
from dbt_braid.dbtcore.project import DbtProject
from dbt_braid.execution.dbt_batches import DbtBatches
from dbt_braid.execution.engine import Engine
from dbt_braid.execution.signals import StopFlag
from dbt_braid.execution.stream import RunStream
from dbt_braid.run.request import RunRequest
from dbt_braid.run.session import Loaded


def finish(loaded: Loaded, request: RunRequest, report: RunReport, results: list[NodeResult],
           engine: Engine, dbt: DbtBatches, stream: RunStream, stop: StopFlag,
           started: float, pm: Any, warehouse: Any) -> None:
    """dbt's artifacts and summary for the whole run, then braid's hooks with the report."""
    project = loaded.project
    if dbt.results and not engine.interrupted:
        dbt.finish_hooks()
    stream.finish(results, dbt.results, project.manifest, loaded.assets,
                  time.perf_counter() - started, engine.interrupted, dbt.end_failure)
    write_dbt_run_results(project, request, dbt.results, results, time.perf_counter() - started)
    if project.invocations == 0:
        # each dbt invocation wrote target/manifest.json with the assets' code versions;
        # a run of Python assets alone writes it itself, for a later --state
        project.write_manifest()
    report.results = results
    report.elapsed = round(time.perf_counter() - started, 3)
    report.invocations = project.invocations
    report.interrupted = engine.interrupted
    report.hook_error = str(dbt.end_failure) if dbt.end_failure is not None else None
    report.stopped_by = stop.name if engine.interrupted else None
    report.target_dir.mkdir(parents=True, exist_ok=True)  # every writer may rely on it
    pm.hook.write_artifacts(report=report)
    pm.hook.record_run(report=report, project=project, warehouse=warehouse)
    pm.hook.emit_lineage(report=report, project=project)
    pm.hook.finish_run(report=report)


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
        artifacts.skipped_result(manifest.nodes[r.unique_id])
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
