"""One braid command's work before anything runs: parse once, resolve, select, plan, check.

The order matters for the promise "nothing runs before declarations are validated":
parsing, resolution, the cycle check, planning and the plan's checks all finish before the
first node runs. :mod:`dbt_braid.execution.run` then executes the plan.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import networkx as nx

from dbt_braid.assets import PythonAsset
from dbt_braid.dbtcore.code_versions import stamp_code_versions
from dbt_braid.dbtcore.patches import python_edges
from dbt_braid.dbtcore.project import DbtOptions, DbtProject
from dbt_braid.dbtcore.targets import check_target_owns_tables
from dbt_braid.declarations import misplaced_declarations, read_declarations
from dbt_braid.declare.code_version import asset_with_vars
from dbt_braid.declare.names import DEPENDABLE_TYPES, DbtName, ProjectIndex
from dbt_braid.declare.resolve import import_problems, resolve_assets
from dbt_braid.errors import BraidUserError
from dbt_braid.graph import UnifiedGraph, build_graph, check_acyclic
from dbt_braid.history import store as history_store
from dbt_braid.history.overdue import Policy, policy_of
from dbt_braid.history.status import NodeStatus, node_statuses
from dbt_braid.io.base import Closable, IOEnv, collect_io_managers, supports
from dbt_braid.planning.batches import Plan, make_plan
from dbt_braid.plugin_host import get_plugin_manager
from dbt_braid.selection import (
    SelectionRequest,
    previous_state,
    select,
    selection_spec,
    wants_status,
)


def runnable_types(command: str, resource_types: Sequence[str] = ()) -> frozenset[str]:
    """The dbt resource types a braid command runs, as the dbt command of that name does
    (``seed``, ``snapshot`` and ``test`` run no Python asset: :data:`RUNS_PYTHON`)."""
    from dbt_braid.graph import TEST_TYPES

    if command == "build":
        from dbt.task.build import BuildTask

        types = {str(t.value) for t in BuildTask.ALL_RESOURCE_VALUES}
    elif command == "test":
        types = set(TEST_TYPES)
    elif command in ("seed", "snapshot"):
        return frozenset({command})
    else:
        return frozenset({"model"})
    if resource_types:
        types &= set(resource_types)
    return frozenset(types)


@dataclass
class Loaded:
    """A parsed project with its Python assets resolved and the unified graph built."""

    project: DbtProject
    assets: dict[str, PythonAsset]
    unified: UnifiedGraph
    io_registry: Any = None
    index: ProjectIndex | None = None

    @property
    def graph(self) -> nx.DiGraph:
        return self.unified.graph


#: the commands that run Python assets, so import their modules (the others never do)
RUNS_PYTHON = frozenset({"run", "build"})


def _dbt_edges(unified: UnifiedGraph, assets: Sequence[PythonAsset]) -> dict[str, tuple[str, ...]]:
    """Each asset's declaring resource and what it reads, in dbt's names."""
    view = unified.dbt_view
    return {a.declared_by: tuple(sorted(view.predecessors(a.declared_by))) for a in assets}


def load(options: DbtOptions, command: str = "run") -> Loaded:
    """Parse the project once and validate every declaration (raises BraidUserError).

    Declarations are checked from the source: no asset module is imported here, except for
    ``run``/``build`` when the declarations are invalid anyway (so one report lists every
    problem, import failures too). :func:`check_imports` imports what a run will run.
    """
    project = DbtProject(options)
    manifest = project.parse()
    pm = get_plugin_manager()
    registry = collect_io_managers(pm)
    index = ProjectIndex(
        nodes={
            uid: DbtName(
                uid,
                n.name,
                n.package_name,
                str(getattr(n.resource_type, "value", n.resource_type)),
                getattr(n.config, "materialized", None),
            )
            for uid, n in manifest.nodes.items()
            if str(getattr(n.resource_type, "value", n.resource_type)) in DEPENDABLE_TYPES
        },
        sources={f"{s.source_name}.{s.name}": uid for uid, s in manifest.sources.items()},
        package_roots=project.package_roots(),
        root_project=project.config.project_name,
        io_managers=registry.writes_table(),
        disabled=frozenset(n.name for nodes in (manifest.disabled or {}).values() for n in nodes),
        exposures=frozenset(e.name for e in manifest.exposures.values()),
        # a seed's depends_on holds macros only
        parents={uid: tuple(getattr(n.depends_on, "nodes", ())) for uid, n in manifest.nodes.items()
                 if str(getattr(n.resource_type, "value", n.resource_type)) in DEPENDABLE_TYPES},
    )
    declarations = read_declarations(manifest.sources.values(), manifest.exposures.values())
    misplaced = misplaced_declarations(manifest.nodes.values())
    assets = resolve_assets(declarations, index, misplaced, import_on_error=command in RUNS_PYTHON)
    assets = [asset_with_vars(a, project.asset_vars(a.package_name)) for a in assets]
    stamp_code_versions(manifest, assets)
    build = command == "build"
    unified = build_graph(
        manifest,
        assets,
        project.link(with_test_edges=build),
        project.test_deps() if build else None,
    )
    check_acyclic(unified.graph, assets)
    python_edges(_dbt_edges(unified, assets))
    return Loaded(project, {a.unique_id: a for a in assets}, unified, registry, index)


def check_imports(loaded: Loaded, plan: Plan) -> None:
    """Import the modules of the Python assets the plan runs, before anything runs: a module
    that fails to import is a declaration problem (exit 2), as a missing function is."""
    assert loaded.index is not None
    planned = [loaded.assets[step.unique_id] for step in plan.python]
    problems = import_problems(planned, loaded.index)
    if problems:
        raise BraidUserError(sorted(set(problems)))


@dataclass
class RunRequest:
    command: str = "run"
    selection: SelectionRequest = field(default_factory=SelectionRequest)
    threads: int | None = None
    full_refresh: bool = False
    fail_fast: bool = False
    #: the flags as given after the command, recorded so ``braid retry`` can repeat them
    argv: list[str] = field(default_factory=list)
    #: what the run is called in results and history when not the command (``retry``)
    label: str | None = None
    #: the registered executor that runs the Python assets (``--executor``; None: braid.yml's
    #: ``executor``, else ``threads``)
    executor: str | None = None
    #: settings for the executor from flags (``--dask-address``), over braid.yml's
    executor_options: dict[str, Any] = field(default_factory=dict)
    #: write source tables the profile's default target also resolves to (dbtcore.targets)
    allow_shared_tables: bool = False
    #: for ``braid retry``: the run_id of the run it retries (history links the two)
    retry_of: str | None = None
    #: for ``braid run --due``: the braid.yml schedule this run is (history records it)
    schedule: str | None = None
    #: dbt's ``--event-time-start``/``--event-time-end`` (aware), for microbatch models and
    #: partitioned assets alike
    event_time_start: datetime | None = None
    event_time_end: datetime | None = None
    #: for ``braid retry``: exactly these windows (keys) of these partitioned assets
    windows: dict[str, list[str]] | None = None


def dbt_flags(request: RunRequest) -> list[str]:
    """The run flags braid forwards to each dbt invocation."""
    flags = ["--full-refresh"] if request.full_refresh else []
    if request.fail_fast:
        flags.append("--fail-fast")
    for flag, moment in (("--event-time-start", request.event_time_start),
                         ("--event-time-end", request.event_time_end)):
        if moment is not None:  # dbt reads a naive value as UTC
            flags += [flag, moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")]
    return flags


def open_io(loaded: Loaded, run_id: str = "") -> dict[str, Any]:
    """This run's IO managers, one per name (close them when done)."""
    project = loaded.project
    credentials = project.config.credentials
    env = IOEnv(project.project_root, project.target(), credentials.type, credentials, run_id)
    return loaded.io_registry.build(env)


def close_io(io: dict[str, Any]) -> None:
    for manager in io.values():
        if supports(manager, Closable):
            manager.close()


def read_history(loaded: Loaded) -> list[dict[str, Any]]:
    """Every node materialization recorded for this project's target, oldest first."""
    io = open_io(loaded)
    try:
        return history_store.read(loaded.project, io.get("table"))
    finally:
        close_io(io)


def read_runs(loaded: Loaded) -> list[dict[str, Any]]:
    """The runs recorded for this target; one still ``running`` while nobody holds the
    target's run lock was killed, and reads as ``abandoned``."""
    from dbt_braid.execution.run_lock import is_free

    io = open_io(loaded)
    try:
        runs = history_store.read(loaded.project, io.get("table"), history_store.RUNS)
    finally:
        close_io(io)
    if any(r.get("status") == "running" for r in runs) and is_free(loaded.project):
        for run in runs:
            if run.get("status") == "running":
                run["status"] = "abandoned"
    return runs


def policies(loaded: Loaded) -> dict[str, list[Policy]]:
    """Each node's freshness policies, where dbt keeps them: a model's
    ``freshness.build_after``, a Python asset's source table's ``warn_after``/``error_after``
    and its own ``meta.braid.freshness.build_after``."""
    manifest = loaded.project.manifest
    found: dict[str, list[Policy]] = {}
    for uid, data in loaded.graph.nodes(data=True):
        policy: list[Policy | None] = []
        if data["resource_type"] == "model" and uid in manifest.nodes:
            fresh = getattr(manifest.nodes[uid].config, "freshness", None)
            policy.append(policy_of("build_after", getattr(fresh, "build_after", None)))
        asset = loaded.assets.get(uid)
        if asset is not None:
            source = manifest.sources.get(asset.declared_by)
            fresh = getattr(source, "freshness", None)
            for setting in ("warn_after", "error_after"):
                policy.append(policy_of(setting, getattr(fresh, setting, None)))
            policy.append(policy_of("build_after", asset.freshness.get("build_after")))
        kept = [p for p in policy if p is not None]
        if kept:
            found[uid] = kept
    return found


def statuses(loaded: Loaded, rows: list[dict[str, Any]] | None = None) -> dict[str, NodeStatus]:
    """Fresh or stale, and why, for every materializing node (a partitioned asset's by its
    windows); overdue, and which policy it breaks, where one applies (at the schedules'
    clock, ``BRAID_NOW`` included)."""
    import dataclasses

    from dbt_braid.history.windows import last_run_status
    from dbt_braid.schedules.clock import now

    rows = read_history(loaded) if rows is None else rows
    partitioned = {uid: a.partitions for uid, a in loaded.assets.items()
                   if a.partitions is not None}
    found = node_statuses(loaded.graph, rows, policies=policies(loaded), now=now(),
                          partitions=partitioned)
    for uid in partitioned:
        last = last_run_status(uid, rows) if uid in found else None
        if last:  # the run's result over its windows, as run_results said it
            found[uid] = dataclasses.replace(found[uid], last_status=last)
    return found


def select_nodes(loaded: Loaded, selection: SelectionRequest,
                 judged: dict[str, NodeStatus] | None = None) -> tuple[set[str], list[str]]:
    """The braid unique_ids a selection picks, and the criteria that matched nothing; a
    selection by ``status:`` leaves the statuses it judged by in ``judged``."""
    project = loaded.project
    spec = selection_spec(selection, project.config)
    state = previous_state(selection, project.project_root, project.target_dir)
    states = None
    if wants_status(selection):
        found = statuses(loaded)
        if judged is not None:
            judged.update(found)
        # "stale" or "fresh", and "overdue" beside it for status:overdue
        states = {uid: st.state + (" overdue" if st.overdue else "")
                  for uid, st in found.items()}
    return select(
        loaded.unified,
        project.manifest,
        loaded.assets,
        spec,
        project.project_root,
        state,
        states,
        getattr(project.config, "selectors", None),
    )


def plan_run(loaded: Loaded, request: RunRequest) -> tuple[Plan, list[str]]:
    loaded.project.check_args(request.command, dbt_flags(request))
    judged: dict[str, NodeStatus] = {}
    selected, unmatched = select_nodes(loaded, request.selection, judged)
    wanted = request.selection.resource_types
    types = runnable_types(request.command, wanted)
    python = request.command in RUNS_PYTHON and (not wanted or "python" in wanted)
    plan = make_plan(loaded.graph, selected, types, include_python=python)
    stale_windows(plan, request, judged)
    check_shared_tables(loaded, plan, request)
    empty_columns(loaded, plan)
    return plan, unmatched


def stale_windows(plan: Plan, request: RunRequest, judged: dict[str, NodeStatus]) -> None:
    """A run selected by ``status:`` recomputes exactly the stale and failed windows of the
    partitioned assets it runs, with the missing ones (``history.window_status.due``); the
    windows that flags name (``--event-time-start/-end``, ``--full-refresh``, a retry's)
    are left as they are."""
    from dbt_braid.history.window_status import due_windows

    if judged and request.windows is None and not request.full_refresh \
            and request.event_time_start is None and request.event_time_end is None:
        request.windows = due_windows((s.unique_id for s in plan.python), judged) or None


def flag_on(flags: Sequence[str], name: str) -> bool:
    """Whether dbt's boolean ``--name`` is on among ``flags`` (the last of ``--name`` and
    ``--no-name`` wins)."""
    chosen = [f for f in flags if f in (f"--{name}", f"--no-{name}")]
    return bool(chosen) and chosen[-1] == f"--{name}"


def wants_empty(project: DbtProject) -> bool:
    """dbt's ``--empty`` among the flags braid passes to dbt."""
    return flag_on(project.options.extra, "empty")


def empty_columns(loaded: Loaded, plan: Plan) -> dict[str, list[tuple[str, str]]] | None:
    """With ``--empty``: each planned source-table asset's declared (column, data_type)s.
    An asset whose source declares no typed columns is refused before anything runs: with
    no data to move, the YAML is the only place its shape can come from."""
    project = loaded.project
    if not wants_empty(project):
        return None
    found: dict[str, list[tuple[str, str]]] = {}
    problems = []
    for step in plan.python:
        asset = loaded.assets[step.unique_id]
        if asset.relation is None or asset.source_name is None:
            continue
        source = project.manifest.sources.get(asset.declared_by)
        columns = list((getattr(source, "columns", None) or {}).values())
        typed = [(c.name, c.data_type) for c in columns if getattr(c, "data_type", None)]
        if not columns or len(typed) < len(columns):
            problems.append(
                f"{asset.yaml_file}: source {asset.source_name}.{asset.name}: columns: "
                "--empty writes an empty table of the source's declared columns instead of "
                "running the asset; declare every column with its data_type (columns: "
                "[{name: id, data_type: integer}, ...])"
            )
        found[asset.unique_id] = typed
    if problems:
        raise BraidUserError(problems)
    return found


def check_shared_tables(loaded: Loaded, plan: Plan, request: RunRequest) -> None:
    """A non-default target must not write the default target's source tables."""
    if not request.allow_shared_tables:
        project = loaded.project
        check_target_owns_tables(
            (loaded.assets[step.unique_id] for step in plan.python),
            project.config, project.package_roots(),
        )


logging.getLogger("braid").addHandler(logging.NullHandler())
