"""Records every braid run in the warehouse history tables (macros/history.sql).

The run's row is written as the run starts and each node's as it finishes
(:mod:`dbt_braid.history.journal`), so a run that dies leaves what it did behind. A ``table``
IO manager that cannot write rows itself (a third-party one) has the whole run written at
its end instead, through ``dbt run-operation``.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

from dbt_braid import __version__, console
from dbt_braid.core.markers import hookimpl
from dbt_braid.core.results import NodeResult, RunReport
from dbt_braid.dbtcore.project import DbtProject
from dbt_braid.execution.python_runner import now_iso
from dbt_braid.history import records, store
from dbt_braid.history.journal import Journal

#: dbt's own commands that braid records (``braid seed``...): in a project without braid's
#: package there is nowhere to record them, and plain dbt would print nothing about it
DBT_COMMANDS = frozenset({"seed", "snapshot", "test"})

#: the journal of each run under way in this process, by run_id
_journals: dict[str, Journal] = {}


def run_status(report: RunReport) -> str:
    if report.interrupted:
        return "cancelled"
    return "success" if report.success else "error"


def _selection(report: RunReport) -> str:
    return " ".join(
        f"--{flag} {' '.join(values) if isinstance(values, list) else values}"
        for flag, values in report.args.items()
        if values and flag in ("select", "exclude", "selector")
    )


def _previous(project: DbtProject, warehouse: Any) -> dict[str, str]:
    try:
        return records.latest_success(store.read(project, warehouse))
    except Exception as exc:  # history must never cost the user their run
        console.warn(f"braid: could not read the run history: {exc}")
        return {}


def _run_row(report: RunReport, project: DbtProject, status: str,
             completed_at: str | None = None) -> dict[str, Any]:
    return records.run_row(
        report.run_id, f"braid {report.command}", _selection(report),
        str(project.config.target_name), report.started_at, status,
        {"braid": __version__, "dbt": version("dbt-core")}, completed_at,
        report.args.get("retry_of"), report.args.get("schedule"))


@hookimpl
def start_run(run_id: str, project: DbtProject, report: RunReport, warehouse: Any) -> None:
    if "braid" not in project.package_roots() or warehouse is None:
        return  # record_run says why nothing is recorded
    nodes = records.NodeRows(run_id, report.graph, report.started_at,
                             _previous(project, warehouse))
    try:
        journal = Journal.start(project, warehouse, _run_row(report, project, "running"), nodes)
    except Exception as exc:  # noqa: BLE001 - the end of the run tries again, as one write
        console.debug(f"braid: history not written as the run goes: {exc}")
        return
    if journal is not None:
        _journals[run_id] = journal


@hookimpl
def after_dbt_node(run_id: str, result: NodeResult) -> None:
    journal = _journals.get(run_id)
    if journal is not None:
        journal.add(result)


@hookimpl
def after_python_asset(run_id: str, result: NodeResult) -> None:
    journal = _journals.get(run_id)
    if journal is not None:
        journal.add(result)


@hookimpl
def record_run(report: RunReport, project: DbtProject, warehouse: Any) -> None:
    status = run_status(report)
    completed = now_iso()
    journal = _journals.pop(report.run_id, None)
    if journal is None and report.command in DBT_COMMANDS and (
            "braid" not in project.package_roots()):
        console.debug("braid: the braid dbt package is not installed; the run is not recorded")
        return
    if journal is not None:
        try:
            journal.finish(report.results, status, completed)
            return
        except Exception as exc:  # noqa: BLE001 - reported below, like any failed write
            error: str | None = " ".join(str(exc).split())
    else:
        nodes = records.NodeRows(report.run_id, report.graph, report.started_at,
                                 _previous(project, warehouse))
        rows = [row for result in report.results for row in nodes.rows(result, completed)]
        error = store.write(project, [_run_row(report, project, status, completed)], rows)
    if error:
        console.warn(f"braid: could not record the run history: {error}")
