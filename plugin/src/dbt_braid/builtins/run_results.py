"""Writes ``target/braid/run_results.json``: one result per dbt node and Python asset."""

from __future__ import annotations

from typing import Any

from dbt_braid.builtins.artifacts import write_json
from dbt_braid.core.markers import hookimpl
from dbt_braid.core.results import NodeResult, RunReport

FIELDS = (
    "unique_id",
    "name",
    "resource_type",
    "status",
    "execution_time",
    "message",
    "rows_written",
    "invocation",
    "started_at",
    "completed_at",
)

WINDOW_FIELDS = ("status", "execution_time", "message", "rows_written", "attempt",
                 "started_at", "completed_at")


def run_results_payload(report: RunReport) -> dict[str, Any]:
    return {
        "run_id": report.run_id,
        "command": report.command,
        "started_at": report.started_at,
        "elapsed": report.elapsed,
        "invocations": report.invocations,
        "args": report.args,
        "results": [_result(r) for r in report.results],
    }


def _result(result: NodeResult) -> dict[str, Any]:
    """One result; a partitioned asset's also lists its windows, and dbt's ``batch_results``
    of a microbatch model ([start, end] of the windows that succeeded and failed)."""
    out = {k: getattr(result, k) for k in FIELDS}
    if result.windows:
        out["windows"] = [{"key": w.partition, **{k: getattr(w, k) for k in WINDOW_FIELDS}}
                          for w in result.windows]
        spans = {w.partition: _span(w.partition) for w in result.windows}
        out["batch_results"] = {
            "successful": [spans[w.partition] for w in result.windows if w.status == "success"],
            "failed": [spans[w.partition] for w in result.windows if w.status != "success"],
        }
    return out


def _span(key: str | None) -> list[str]:
    from dbt_braid.core.windows import window_of_key

    window = window_of_key(str(key))
    return [window.start.isoformat(), window.end.isoformat()]


@hookimpl
def write_artifacts(report: RunReport) -> None:
    write_json(report.target_dir / "run_results.json", run_results_payload(report))
