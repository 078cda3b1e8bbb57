"""braid's hook specifications (pluggy project ``braid``).

Built-in behaviour (IO managers, the run_results and lineage writers) implements these
same hooks from :data:`dbt_braid.plugin_host.DEFAULT_PLUGINS`, so a third-party plugin can add
to or replace any of it. Hooks are verb phrases; new arguments are added at the end and old
plugins keep working because pluggy passes only the arguments an implementation names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from dbt_braid.assets import PythonAsset
    from dbt_braid.dbt_project import DbtProject
    from dbt_braid.execution.results import NodeResult, RunReport

hookspec = pluggy.HookspecMarker("braid")
hookimpl = pluggy.HookimplMarker("braid")


@hookspec
def register_io_managers(register: Callable[..., None]) -> None:
    """Contribute IO managers: ``register(name, factory, writes_table=False)``.

    ``factory(env: IOEnv) -> IOManager | None`` is called once per run; returning None means
    "not for this warehouse", letting another plugin's manager of the same name serve it.
    ``writes_table=True`` means the manager stores a source table's relation.

    Example::

        @hookimpl
        def register_io_managers(register):
            register("parquet", lambda env: ParquetIO(env.project_dir / "exports"))
    """


@hookspec
def before_asset(asset: PythonAsset, run_id: str) -> None:
    """Called in the worker thread right before a Python asset's function runs."""


@hookspec
def after_asset(asset: PythonAsset, result: NodeResult) -> None:
    """Called once per planned Python asset when its result is known: it succeeded (and its
    value was stored), failed, or was skipped (``result.status`` says which)."""


@hookspec
def write_artifacts(report: RunReport) -> None:
    """Write what a run leaves behind (run_results.json, lineage.json, ...)."""


@hookspec
def record_run(report: RunReport, project: DbtProject, warehouse: Any) -> None:
    """Keep a record of a finished run (the built-in writes the warehouse history tables).

    ``project`` is the parsed dbt project (``run_operation``, ``show``); ``warehouse`` the
    ``table`` IO manager, for direct queries where it has ``query`` (DuckDB), else None.
    """


@hookspec
def emit_lineage(report: RunReport, project: DbtProject) -> None:
    """Send lineage for a finished run (the built-in emits OpenLineage events when
    OpenLineage is configured)."""
