"""One braid command's work, from flags to results: parse once, resolve, plan, execute.

The order matters for the promise "nothing runs before declarations are validated":
parsing, resolution, the cycle check and planning all finish before the first node runs.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import networkx as nx

from dbt_braid import console
from dbt_braid.assets import PythonAsset
from dbt_braid.dbtcore.code_versions import stamp_code_versions
from dbt_braid.dbtcore.patches import HookPlan, python_edges
from dbt_braid.dbtcore.project import DbtOptions, DbtProject
from dbt_braid.dbtcore.targets import check_target_owns_tables
from dbt_braid.declarations import misplaced_declarations, read_declarations
from dbt_braid.errors import BraidUserError
from dbt_braid.execution.context import RunFlags
from dbt_braid.execution.engine import Engine
from dbt_braid.execution.executors import DEFAULT_EXECUTOR, collect_executors
from dbt_braid.execution.python_runner import PythonRunner, now_iso, relation_of
from dbt_braid.execution.results import NodeResult, RunReport
from dbt_braid.graph import PYTHON, UnifiedGraph, build_graph, check_acyclic
from dbt_braid.history import store as history_store
from dbt_braid.history.status import NodeStatus, node_statuses
from dbt_braid.io.base import IOEnv, StoredRef, collect_io_managers
from dbt_braid.planning import Plan, make_plan
from dbt_braid.plugin_host import get_plugin_manager
from dbt_braid.resolve import (
    DEPENDABLE_TYPES,
    DbtName,
    ProjectIndex,
    import_problems,
    resolve_assets,
)
from dbt_braid.selection import (
    SelectionRequest,
    previous_state,
    select,
    selection_spec,
    wants_status,
)


def runnable_types(command: str, resource_types: Sequence[str] = ()) -> frozenset[str]:
    """The dbt resource types a braid command runs (as ``dbt run`` / ``dbt build`` do)."""
    if command == "build":
        from dbt.task.build import BuildTask

        types = {str(t.value) for t in BuildTask.ALL_RESOURCE_VALUES}
        if resource_types:
            types &= set(resource_types)
        return frozenset(types)
    return frozenset({"model"})


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
    )
    declarations = read_declarations(manifest.sources.values(), manifest.exposures.values())
    misplaced = misplaced_declarations(manifest.nodes.values())
    assets = resolve_assets(declarations, index, misplaced, import_on_error=command in RUNS_PYTHON)
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
    #: the registered executor that runs the Python assets (``--executor``)
    executor: str = DEFAULT_EXECUTOR
    #: write source tables the profile's default target also resolves to (dbtcore.targets)
    allow_shared_tables: bool = False


def _utc(moment: datetime) -> datetime:
    """dbt's timings are naive UTC; braid's are aware, so the strings compare."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _dbt_results(result: Any, nodes: list[str], index: int, graph: nx.DiGraph) -> list[NodeResult]:
    out: list[NodeResult] = []
    run_results = getattr(result.result, "results", None) if result.result is not None else None
    if run_results is None:
        message = f"dbt invocation failed: {result.exception}"
        for uid in nodes:
            data = graph.nodes[uid]
            out.append(
                NodeResult(
                    uid,
                    data["name"],
                    data["resource_type"],
                    "error",
                    message=message,
                    invocation=index,
                )
            )
        return out
    for r in run_results:
        uid = r.node.unique_id
        data = graph.nodes[uid] if uid in graph else {"name": r.node.name, "resource_type": "model"}
        adapter = r.adapter_response or {}
        rows = adapter.get("rows_affected") if isinstance(adapter, dict) else None
        starts = [_utc(t.started_at) for t in (r.timing or []) if t.started_at]
        ends = [_utc(t.completed_at) for t in (r.timing or []) if t.completed_at]
        out.append(
            NodeResult(
                uid,
                data["name"],
                data["resource_type"],
                str(getattr(r.status, "value", r.status)),
                execution_time=round(float(r.execution_time or 0.0), 4),
                message=r.message,
                rows_written=rows if isinstance(rows, int) and rows >= 0 else None,
                invocation=index,
                started_at=min(starts).isoformat() if starts else None,
                completed_at=max(ends).isoformat() if ends else None,
            )
        )
    return out


def dbt_flags(request: RunRequest) -> list[str]:
    """The run flags braid forwards to each dbt invocation."""
    flags = ["--full-refresh"] if request.full_refresh else []
    if request.fail_fast:
        flags.append("--fail-fast")
    return flags


def open_io(loaded: Loaded, run_id: str = "") -> dict[str, Any]:
    """This run's IO managers, one per name (close them when done)."""
    project = loaded.project
    credentials = project.config.credentials
    env = IOEnv(project.project_root, project.target(), credentials.type, credentials, run_id)
    return loaded.io_registry.build(env)


def close_io(io: dict[str, Any]) -> None:
    for manager in io.values():
        close = getattr(manager, "close", None)
        if close:
            close()


def read_history(loaded: Loaded) -> list[dict[str, Any]]:
    """Every node materialization recorded for this project's target, oldest first."""
    io = open_io(loaded)
    try:
        return history_store.read(loaded.project, io.get("table"))
    finally:
        close_io(io)


def statuses(loaded: Loaded, rows: list[dict[str, Any]] | None = None) -> dict[str, NodeStatus]:
    """Fresh or stale, and why, for every materializing node."""
    return node_statuses(loaded.graph, read_history(loaded) if rows is None else rows)


def select_nodes(loaded: Loaded, selection: SelectionRequest) -> tuple[set[str], list[str]]:
    """The braid unique_ids a selection picks, and the criteria that matched nothing."""
    project = loaded.project
    spec = selection_spec(selection, project.config)
    state = previous_state(selection, project.project_root, project.target_dir)
    states = None
    if wants_status(selection):
        states = {uid: st.state for uid, st in statuses(loaded).items()}
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
    selected, unmatched = select_nodes(loaded, request.selection)
    wanted = request.selection.resource_types
    types = runnable_types(request.command, wanted)
    plan = make_plan(loaded.graph, selected, types, include_python=not wanted or "python" in wanted)
    check_shared_tables(loaded, plan, request)
    empty_columns(loaded, plan)
    return plan, unmatched


def wants_empty(project: DbtProject) -> bool:
    """dbt's ``--empty`` among the flags braid passes to dbt (the last of it and
    ``--no-empty`` wins)."""
    flags = [f for f in project.options.extra if f in ("--empty", "--no-empty")]
    return bool(flags) and flags[-1] == "--empty"


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


def _check_io(
    plan: Plan, loaded: Loaded, io: dict[str, Any], refs: dict[str, tuple[StoredRef, str]]
) -> None:
    """Every IO manager the planned assets use exists here and can work (before anything runs)."""
    used: set[str] = set()
    for step in plan.python:
        asset = loaded.assets[step.unique_id]
        used.add(asset.io)
        used.update(refs[u][1] for u in asset.inputs.values() if u in refs)
    adapter = loaded.project.config.credentials.type
    for name in sorted(used):
        manager = io.get(name)
        if manager is None:
            raise BraidUserError(f"no IO manager {name!r} serves target type {adapter!r}")
        check = getattr(manager, "check", None)
        if check is not None:
            try:
                check()
            except ValueError as exc:
                raise BraidUserError(
                    f"profiles.yml: target {loaded.project.config.target_name}: {exc}"
                ) from None


def execute(loaded: Loaded, plan: Plan, request: RunRequest) -> RunReport:
    check_imports(loaded, plan)
    project = loaded.project
    graph = loaded.graph
    run_id = str(uuid.uuid4())
    project.run_id = run_id
    started = now_iso()
    t0 = time.perf_counter()
    io = open_io(loaded, run_id)
    refs: dict[str, tuple[StoredRef, str]] = {}
    for uid, data in graph.nodes(data=True):
        if data["kind"] == PYTHON:
            asset = loaded.assets[uid]
            refs[uid] = (StoredRef(uid, asset.name, asset.package_name, asset.relation), asset.io)
        elif data.get("relation"):
            refs[uid] = (
                StoredRef(uid, data["name"], data["package_name"], relation_of(data["relation"])),
                "table",
            )
    pm = get_plugin_manager()
    executors = collect_executors(pm)
    try:
        _check_io(plan, loaded, io, refs)
        executors.check(request.executor)
    except BaseException:
        close_io(io)
        raise
    python = PythonRunner(
        refs=refs,
        io=io,
        run_id=run_id,
        target=project.target(),
        project_dir=project.project_root,
        before=lambda asset: pm.hook.before_python_asset(asset=asset, run_id=run_id),
        context_extras=_context_extras(project, request),
        empty=empty_columns(loaded, plan),
    )
    progress = console.Progress(len(plan.python), lambda uid: graph.nodes[uid]["name"])

    def on_result(result: NodeResult) -> None:
        if result.resource_type == "python":
            progress.finished(result)
            pm.hook.after_python_asset(asset=loaded.assets[result.unique_id], result=result)

    flags = dbt_flags(request)
    dbt_results: list[Any] = []
    last_batch = len(plan.batches) - 1

    def run_batch(index: int, nodes: list[str], notify: Any) -> list[NodeResult]:
        console.say(
            f"braid: dbt invocation {project.invocations + 1} "
            f"(batch {index + 1} of {len(plan.batches)}, {len(nodes)} nodes)"
        )

        def callback(event: Any) -> None:
            name = event.info.name
            if name == "NodeFinished":
                info = event.data.node_info
                notify(info.unique_id, info.node_status)
            elif name == "NodeStart":
                uid = event.data.node_info.unique_id
                if uid in graph:
                    pm.hook.before_dbt_node(run_id=run_id, unique_id=uid)

        pm.hook.before_dbt_batch(run_id=run_id, batch_index=index, unique_ids=list(nodes))
        hook_plan = HookPlan(
            start=not dbt_results,
            end=index == last_batch,
            earlier=tuple(r for batch in dbt_results for r in batch.results),
        )
        result = project.invoke(request.command, nodes, flags, [callback], hook_plan)
        if getattr(result.result, "results", None) is not None:
            dbt_results.append(result.result)
        if isinstance(result.exception, KeyboardInterrupt):
            raise KeyboardInterrupt
        batch_results = _dbt_results(result, nodes, project.invocations - 1, graph)
        pm.hook.after_dbt_batch(run_id=run_id, batch_index=index, results=batch_results)
        return batch_results

    threads = request.threads or int(project.config.threads or 1)
    engine = Engine(
        plan,
        graph,
        loaded.assets,
        python,
        run_batch,
        threads=threads,
        fail_fast=request.fail_fast,
        on_result=on_result,
        on_start=progress.started,
        executor=lambda n: executors.make(request.executor, n),
    )
    try:
        pm.hook.start_run(run_id=run_id, command=request.label or request.command, plan=plan,
                          project=project, graph=graph)
        results = engine.run()
        if dbt_results and not engine.interrupted:
            _finish_hooks(project, request, plan, dbt_results, flags)
        write_dbt_run_results(
            project, request, dbt_results, results, time.perf_counter() - t0
        )
        if project.invocations == 0:
            # each dbt invocation wrote target/manifest.json with the assets' code versions;
            # a run of Python assets alone writes it itself, for a later --state
            project.write_manifest()
        report = _report(loaded, request, run_id, started, t0, results, engine.interrupted)
        report.target_dir.mkdir(parents=True, exist_ok=True)  # every writer may rely on it
        pm.hook.write_artifacts(report=report)
        pm.hook.record_run(report=report, project=project, warehouse=io.get("table"))
        pm.hook.emit_lineage(report=report, project=project)
        pm.hook.finish_run(report=report)
    finally:
        close_io(io)
    return report


def _context_extras(project: DbtProject, request: RunRequest) -> Any:
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


def _finish_hooks(
    project: DbtProject, request: RunRequest, plan: Plan, dbt_results: list[Any],
    flags: list[str],
) -> None:
    """The project's on-run-end hooks, when the last planned batch did not run them (it was
    skipped entirely): one more invocation that runs the hooks and no node."""
    ran_end = any(
        str(getattr(r.node, "unique_id", "")).startswith("operation.")
        and "on-run-end" in (getattr(r.node, "tags", None) or [])
        for batch in dbt_results for r in batch.results
    )
    if ran_end or not project.has_hooks("on-run-end"):
        return
    some_node = next(r.node.unique_id for batch in dbt_results for r in batch.results
                     if not r.node.unique_id.startswith("operation."))
    earlier = tuple(r for batch in dbt_results for r in batch.results)
    result = project.invoke(request.command, [some_node], flags, (),
                            HookPlan(start=False, end=True, earlier=earlier, nodes=False))
    if getattr(result.result, "results", None) is not None:
        dbt_results.append(result.result)


def write_dbt_run_results(
    project: DbtProject,
    request: RunRequest,
    batches: list[Any],
    results: list[NodeResult],
    elapsed: float,
) -> None:
    """dbt's target/run_results.json for the whole run (dbtcore.artifacts says why)."""
    from dbt_braid.dbtcore import artifacts

    reported = {r.node.unique_id for batch in batches for r in batch.results}
    manifest = project.manifest
    skipped = [
        artifacts.skipped_result(manifest.nodes[r.unique_id], r.message or "skipped")
        for r in results
        if r.resource_type != "python" and r.unique_id not in reported
        and r.unique_id in manifest.nodes
    ]
    selection = request.selection
    args: dict[str, Any] = {
        "which": request.command,
        "select": list(selection.select),
        "exclude": list(selection.exclude),
        "vars": project.options.user_vars(),
        "invocation_command": " ".join(["braid", request.command, *request.argv]),
    }
    if selection.selector:
        args["selector"] = selection.selector
    artifacts.write_run_results(
        project.target_dir / "run_results.json", batches, skipped, args, round(elapsed, 3)
    )


def _report(
    loaded: Loaded,
    request: RunRequest,
    run_id: str,
    started: str,
    t0: float,
    results: list[NodeResult],
    interrupted: bool,
) -> RunReport:
    project = loaded.project
    return RunReport(
        run_id=run_id,
        command=request.label or request.command,
        started_at=started,
        elapsed=round(time.perf_counter() - t0, 3),
        results=results,
        graph=loaded.graph,
        target_dir=project.target_dir / "braid",
        invocations=project.invocations,
        interrupted=interrupted,
        args={
            "select": list(request.selection.select),
            "exclude": list(request.selection.exclude),
            "selector": request.selection.selector,
            "command": request.command,
            "argv": list(request.argv),
        },
    )


logging.getLogger("braid").addHandler(logging.NullHandler())
