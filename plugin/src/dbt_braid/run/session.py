"""One braid command's work before anything runs: parse once, resolve, select, plan, check.

The order matters for the promise "nothing runs before declarations are validated":
parsing, resolution, the cycle check, planning and the plan's checks all finish before the
first node runs. :mod:`dbt_braid.run.execute` then prepares and executes the plan. What
the session asks of history (a ``status:`` selection) is :mod:`dbt_braid.history.queries`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx

from dbt_braid.core.assets import PythonAsset
from dbt_braid.core.errors import BraidUserError
from dbt_braid.dbtcore.code_versions import stamp_code_versions
from dbt_braid.dbtcore.patches import python_edges
from dbt_braid.dbtcore.project import DbtOptions, DbtProject
from dbt_braid.dbtcore.targets import check_target_owns_tables
from dbt_braid.declare.code_version import asset_with_vars
from dbt_braid.declare.declarations import misplaced_declarations, read_declarations
from dbt_braid.declare.names import DEPENDABLE_TYPES, DbtName, ProjectIndex
from dbt_braid.declare.resolve import import_problems, resolve_assets
from dbt_braid.graph.unified import UnifiedGraph, build_graph, check_acyclic
from dbt_braid.history import queries
from dbt_braid.history.status import NodeStatus
from dbt_braid.io.base import collect_io_managers
from dbt_braid.planning.batches import Plan, make_plan
from dbt_braid.plugin_host import get_plugin_manager
from dbt_braid.run.request import RunRequest, dbt_flags, wants_empty
from dbt_braid.selection.select import (
    SelectionRequest,
    previous_state,
    select,
    selection_spec,
    wants_status,
)


def runnable_types(command: str, resource_types: Sequence[str] = ()) -> frozenset[str]:
    """The dbt resource types a braid command runs, as the dbt command of that name does
    (``seed``, ``snapshot`` and ``test`` run no Python asset: :data:`RUNS_PYTHON`)."""
    from dbt_braid.graph.unified import TEST_TYPES

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


def select_nodes(loaded: Loaded, selection: SelectionRequest,
                 judged: dict[str, NodeStatus] | None = None) -> tuple[set[str], list[str]]:
    """The braid unique_ids a selection picks, and the criteria that matched nothing; a
    selection by ``status:`` leaves the statuses it judged by in ``judged``."""
    project = loaded.project
    spec = selection_spec(selection, project.config)
    state = previous_state(selection, project.project_root, project.target_dir)
    states = None
    if wants_status(selection):
        found = queries.statuses(project, loaded.graph, loaded.assets,
                                 queries.read_history(project, loaded.io_registry))
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
