"""Writes ``target/braid/run_results.json``: one result per dbt node and Python asset."""

from __future__ import annotations

from typing import Any

from dbt_braid.builtins.artifacts import write_json
from dbt_braid.execution.results import RunReport
from dbt_braid.hookspecs import hookimpl

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


def run_results_payload(report: RunReport) -> dict[str, Any]:
    return {
        "run_id": report.run_id,
        "command": report.command,
        "started_at": report.started_at,
        "elapsed": report.elapsed,
        "invocations": report.invocations,
        "args": report.args,
        "results": [{k: getattr(r, k) for k in FIELDS} for r in report.results],
    }


@hookimpl
def write_artifacts(report: RunReport) -> None:
    write_json(report.target_dir / "run_results.json", run_results_payload(report))
