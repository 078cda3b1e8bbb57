"""Records every braid run in the warehouse history tables (macros/history.sql)."""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

from dbt_braid import __version__, console
from dbt_braid.dbtcore.project import DbtProject
from dbt_braid.execution.results import RunReport
from dbt_braid.history import records, store
from dbt_braid.hookspecs import hookimpl


def run_status(report: RunReport) -> str:
    if report.interrupted:
        return "cancelled"
    return "success" if report.success else "error"


@hookimpl
def record_run(report: RunReport, project: DbtProject, warehouse: Any) -> None:
    try:
        previous = records.latest_success(store.read(project, warehouse))
    except Exception as exc:  # history must never cost the user their run
        console.warn(f"braid: could not read the run history: {exc}")
        previous = {}
    selection = " ".join(
        f"--{flag} {' '.join(values) if isinstance(values, list) else values}"
        for flag, values in report.args.items()
        if values and flag in ("select", "exclude", "selector")
    )
    runs, nodes = records.history_rows(
        report,
        run_status(report),
        selection,
        str(project.config.target_name),
        {"braid": __version__, "dbt": version("dbt-core")},
        previous,
    )
    error = store.write(project, runs, nodes)
    if error:
        console.warn(f"braid: could not record the run history: {error}")
