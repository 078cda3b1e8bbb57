"""Where history lives: tables written by the package's macros, read back with SQL.

Writing goes through ``dbt run-operation braid.insert_history`` (adapter-dispatched macros,
chunked inserts), so any warehouse dbt supports can keep braid's history. Reading uses the
``table`` IO manager's direct connection when it has one (DuckDB), else ``dbt show``.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from dbt_braid.dbtcore.project import DbtProject
from dbt_braid.io.base import Queries, is_missing_relation, supports

RUNS = "braid_runs"
NODE_RUNS = "braid_node_runs"


def history_schema(project: DbtProject) -> tuple[str | None, str]:
    """(database, schema) of the history tables: var braid_history_schema, else the target's."""
    config = project.config
    schema = None
    cli_vars = getattr(config, "cli_vars", None) or {}
    schema = cli_vars.get("braid_history_schema")
    if schema is None:
        # as the macro sees it (it runs in package braid): braid-scoped, then global vars
        project_vars = getattr(getattr(config, "vars", None), "vars", None) or {}
        for scope in (project_vars.get("braid") or {}, project_vars):
            if isinstance(scope, dict) and scope.get("braid_history_schema"):
                schema = scope["braid_history_schema"]
                break
    credentials = config.credentials
    return getattr(credentials, "database", None), schema or credentials.schema


def quoted(project: DbtProject, table: str) -> str:
    """The history table as SQL, quoted by the target's adapter."""
    from dbt_braid.core.assets import Relation
    from dbt_braid.io import adapter_sql

    database, schema = history_schema(project)
    credentials = project.config.credentials
    adapter = adapter_sql.adapter_class(credentials.type)
    return adapter_sql.render(adapter, Relation(database, schema, table))


def write(
    project: DbtProject, runs: list[dict[str, Any]], nodes: list[dict[str, Any]]
) -> str | None:
    """Insert the rows; an error message instead of raising (a run's result stands anyway)."""
    if "braid" not in project.package_roots():
        return (
            "the braid dbt package is not installed, so runs are not recorded; add it to "
            "packages.yml and run braid deps"
        )
    if project.config.credentials.type == "duckdb" and nodes:
        # DuckDB loads the rows from a file in one statement (duckdb__insert_history)
        with tempfile.TemporaryDirectory(prefix="braid-history-") as folder:
            path = Path(folder) / "node_runs.ndjson"
            path.write_text("".join(json.dumps(n, default=str) + "\n" for n in nodes))
            result = project.run_operation(
                "braid.insert_history", {"runs": runs, "nodes": [], "nodes_file": str(path)}
            )
    else:
        result = project.run_operation("braid.insert_history", {"runs": runs, "nodes": nodes})
    if result.success:
        return None
    return " ".join(
        str(result.exception or "dbt run-operation braid.insert_history failed").split()
    )


def read(
    project: DbtProject, warehouse: Any | None, table: str = NODE_RUNS, where: str = ""
) -> list[dict[str, Any]]:
    """Rows of a history table for this target ([] before anything was recorded).

    Targets are kept apart: a dev run must not make prod look fresh.
    """
    if not where:
        target = str(project.config.target_name).replace("'", "''")
        runs = quoted(project, RUNS)
        where = (
            f"where target_name = '{target}'"
            if table == RUNS
            else f"where run_id in (select run_id from {runs} where target_name = '{target}')"
        )
    sql = f"select * from {quoted(project, table)} {where}"
    try:
        if supports(warehouse, Queries):
            rows: list[dict[str, Any]] = warehouse.query(sql).to_dict("records")
        else:
            rows = project.show(sql)
    except Exception as exc:
        if is_missing_relation(exc):  # nothing recorded yet
            return []
        raise
    return [{k: _plain(v) for k, v in row.items()} for row in rows]


def node_rows(project: DbtProject, warehouse: Any | None, uids: Iterable[str], condition: str,
              recent_runs: int | None = None) -> list[dict[str, Any]]:
    """The node rows of ``uids`` that meet ``condition`` (SQL), in this target's runs (its
    latest ``recent_runs`` only, when given); [] for no uids."""
    wanted = sorted(set(uids))
    if not wanted:
        return []
    target = str(project.config.target_name).replace("'", "''")
    listed = ", ".join("'" + u.replace("'", "''") + "'" for u in wanted)
    latest = f" order by started_at desc limit {int(recent_runs)}" if recent_runs else ""
    runs = (f"select run_id from {quoted(project, RUNS)} where target_name = '{target}'"
            f"{latest}")
    return read(project, warehouse, NODE_RUNS,
                f"where {condition} and unique_id in ({listed}) and run_id in ({runs})")


def _plain(value: Any) -> Any:
    """Timestamps as the strings history_rows writes; NaN/NaT as None."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if hasattr(value, "strftime"):
        try:
            return value.strftime("%Y-%m-%d %H:%M:%S.%f")
        except ValueError:  # NaT
            return None
    return value
