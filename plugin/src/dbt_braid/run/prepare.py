"""A run's first phase: everything decided before the first node runs.

The session (:mod:`.session`) has parsed, resolved, selected and planned; preparing makes
that plan the one that runs: the planned assets' modules imported, each node's stored value
located, the IO managers and the warehouse checked, the executor chosen and made, the plan
refined with history's durations (:mod:`dbt_braid.planning.timing`) and each partitioned
asset's windows chosen. ``--debug`` prints the result (:func:`describe`), so the plan it shows
is the plan the engine runs. Every check here raises :class:`BraidUserError` (exit 2) before
anything has run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dbt_braid import console
from dbt_braid.core.errors import BraidUserError
from dbt_braid.core.results import RunReport
from dbt_braid.core.windows import Window
from dbt_braid.dbtcore.project import DbtProject
from dbt_braid.execution.context import RunFlags
from dbt_braid.execution.executors import ExecutorRegistry, chosen_executor, make_executor
from dbt_braid.execution.python_runner import relation_of
from dbt_braid.graph.unified import PYTHON
from dbt_braid.history.durations import node_durations
from dbt_braid.io.base import ChecksAvailability, ChecksTarget, StoredRef, WindowWrites, supports
from dbt_braid.planning.batches import Plan
from dbt_braid.planning.timing import batch_cost, refine
from dbt_braid.run.defer import deferred_inputs
from dbt_braid.run.request import RunRequest, flag_on, wants_empty
from dbt_braid.run.session import Loaded, empty_columns
from dbt_braid.run.windows import planned_windows

#: unique_id -> (where its value is stored, the name of the IO manager that reads it)
Refs = dict[str, tuple[StoredRef, str]]


@dataclass
class Prepared:
    """What the engine needs, all of it decided before the first node runs."""

    #: the plan that runs: the session's, with batches split where history says so
    plan: Plan
    refs: Refs
    #: the executor's registered name and the one made for this run (None: no Python asset)
    executor_name: str
    executor: Any
    threads: int
    #: each partitioned asset's windows for this run
    windows: dict[str, list[Window]]
    #: with ``--defer``: inputs this run does not build -> the state's relation
    deferred: dict[str, StoredRef]
    #: with ``--empty``: each source-table asset's declared (column, data_type)s
    empty: dict[str, list[tuple[str, str]]] | None


def prepare(loaded: Loaded, plan: Plan, request: RunRequest, io: dict[str, Any],
            executors: ExecutorRegistry) -> Prepared:
    """The final plan and everything around it; ``io`` is open (the caller closes it), and
    the executor made here is the caller's to shut down."""
    project = loaded.project
    refs = stored_refs(loaded)
    check_io(plan, loaded, io, refs)
    name, options = chosen_executor(request, project.project_root)
    executors.check(name)
    threads = request.threads or int(project.config.threads or 1)
    final = timed(project, plan, io.get("table"))
    windows = planned_windows(loaded, final, request, io.get("table"))
    deferred = deferred_inputs(loaded, final, refs)
    empty = empty_columns(loaded, final)
    console.debug(f"braid plan:\n{describe(final, windows)}")
    made = make_executor(executors, name, options, threads, final)
    return Prepared(final, refs, name, made, threads, windows, deferred, empty)


def describe(plan: Plan, windows: dict[str, list[Window]]) -> str:
    """The plan as ``--debug`` shows it, with each partitioned asset's windows."""
    lines = [plan.describe()]
    for uid, chosen in sorted(windows.items()):
        keys = [w.key for w in chosen]
        span = f"{keys[0]}..{keys[-1]}" if len(keys) > 1 else (keys[0] if keys else "none")
        lines.append(f"windows {uid}: {len(keys)} ({span})")
    return "\n".join(lines)


def stored_refs(loaded: Loaded) -> Refs:
    """Where every node of the graph that stores a value keeps it, and which IO manager
    reads it: a Python asset's own ``io``, ``table`` for a dbt relation."""
    refs: Refs = {}
    for uid, data in loaded.graph.nodes(data=True):
        if data["kind"] == PYTHON:
            asset = loaded.assets[uid]
            refs[uid] = (StoredRef(uid, asset.name, asset.package_name, asset.relation), asset.io)
        elif data.get("relation"):
            refs[uid] = (
                StoredRef(uid, data["name"], data["package_name"], relation_of(data["relation"])),
                "table",
            )
    return refs


def check_io(plan: Plan, loaded: Loaded, io: dict[str, Any], refs: Refs) -> None:
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


def timed(project: DbtProject, plan: Plan, warehouse: Any) -> Plan:
    """The plan with a batch split where history says waiting for a Python asset costs more
    than one more invocation (planning.timing); ``--debug`` says why each batch is what it
    is. A plan whose batches wait for no Python asset reads no history."""
    waits = any(batch.needs_python for batch in plan.batches)
    durations = node_durations(project, warehouse, plan.order) if waits else {}
    cost = batch_cost(len(project.manifest.nodes) + len(project.manifest.sources))
    refined = refine(plan, durations, cost)
    for line in refined.reasons:
        console.debug(f"braid: {line}")
    return refined.plan


def context_extras(project: DbtProject, request: RunRequest) -> Any:
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


def favor_state(project: DbtProject) -> bool:
    """dbt's ``--favor-state``: a deferred input is read from the state even when built here."""
    return flag_on(project.options.extra, "favor-state")


def start_report(loaded: Loaded, request: RunRequest, run_id: str, started: str) -> RunReport:
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

