"""braid's hook specifications (pluggy project ``braid``), documented in docs/plugins.md.

Built-in behaviour (IO managers, the thread-pool executor, the run_results and lineage
writers, the history recorder, the OpenLineage emitter) implements these same hooks from
:data:`dbt_braid.plugin_host.DEFAULT_PLUGINS`, so a third-party plugin can add to or replace
any of it. Hooks come in families, named as verb phrases:

- ``register_*``: contribute implementations through a ``register`` callback;
- ``before_*`` / ``after_*``: around each Python asset and each dbt batch (and as each dbt
  node starts);
- ``start_run`` / ``finish_run``: once per run, the plan first, the results last;
- ``write_artifacts``, ``record_run``, ``emit_lineage``: what a finished run leaves behind.

New arguments are only ever added at the end, and old plugins keep working because pluggy
passes an implementation only the arguments it names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from dbt_braid.core.markers import hookimpl, hookspec

if TYPE_CHECKING:
    import networkx as nx

    from dbt_braid.core.assets import PythonAsset
    from dbt_braid.core.results import NodeResult, RunReport
    from dbt_braid.dbtcore.project import DbtProject
    from dbt_braid.planning.batches import Plan

__all__ = ["hookimpl", "hookspec"]


@hookspec
def register_io_managers(register: Callable[..., None]) -> None:
    """Contribute IO managers: ``register(name, factory, writes_table=False)``.

    ``factory(env: IOEnv) -> IOManager | None`` is called once per run; returning None means
    "not for this warehouse", letting another plugin's manager of the same name serve it.
    ``writes_table=True`` means the manager stores a source table's relation.
    """


@hookspec
def register_executors(register: Callable[..., None]) -> None:
    """Contribute executors for Python assets: ``register(name, factory)``.

    ``factory(threads: int)`` returns a :class:`concurrent.futures.Executor` (``submit``,
    ``shutdown``); ``braid run --executor NAME`` picks one, ``threads`` by default.
    """


@hookspec
def start_run(
    run_id: str, command: str, plan: Plan, project: DbtProject, graph: nx.DiGraph,
    report: RunReport, warehouse: Any,
) -> None:
    """Called once before anything of a run executes, with the plan it will follow and the
    unified graph it was made from.

    ``report`` is the run's report as it starts (its results fill in as the run goes);
    ``warehouse`` the ``table`` IO manager, as for ``record_run``.
    """


@hookspec
def before_dbt_batch(run_id: str, batch_index: int, unique_ids: list[str]) -> None:
    """Called on the main thread right before a dbt invocation runs a batch of nodes."""


@hookspec
def before_dbt_node(run_id: str, unique_id: str) -> None:
    """Called when dbt starts one node of a batch (dbt's NodeStart event), on dbt's worker
    thread: keep it quick and thread-safe."""


@hookspec
def after_dbt_node(run_id: str, result: NodeResult) -> None:
    """Called when dbt finishes one node of a batch (dbt's NodeFinished event), on dbt's
    worker thread, with the node's result: keep it quick and thread-safe."""


@hookspec
def after_dbt_batch(run_id: str, batch_index: int, results: list[NodeResult]) -> None:
    """Called on the main thread right after a dbt invocation, with its nodes' results."""


@hookspec
def before_python_asset(asset: PythonAsset, run_id: str) -> None:
    """Called in the worker thread right before a Python asset's function runs."""


@hookspec
def after_python_asset(asset: PythonAsset, result: NodeResult, run_id: str) -> None:
    """Called once per planned Python asset when its result is known: it succeeded (and its
    value was stored), failed, or was skipped (``result.status`` says which)."""


@hookspec
def write_artifacts(report: RunReport) -> None:
    """Write what a run leaves behind (run_results.json, lineage.json, ...)."""


@hookspec
def record_run(report: RunReport, project: DbtProject, warehouse: Any) -> None:
    """Keep a record of a finished run (the built-in writes the warehouse history tables).

    ``project`` is the parsed dbt project (``run_operation``, ``show``); ``warehouse`` the
    ``table`` IO manager, for direct queries where it has ``query``, else None.
    """


@hookspec
def emit_lineage(report: RunReport, project: DbtProject) -> None:
    """Send lineage for a finished run (the built-in emits OpenLineage events when
    OpenLineage is configured)."""


@hookspec
def finish_run(report: RunReport) -> None:
    """Called once at the very end of a run, after artifacts, history and lineage."""
