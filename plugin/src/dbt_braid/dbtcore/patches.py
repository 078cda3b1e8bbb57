"""What braid changes inside dbt, for braid's own in-process invocations only.

The first two are context variables read by patched dbt methods; outside a braid invocation
(plain ``dbt`` commands in the same process, ``braid deps``) dbt behaves as shipped. The
third, :func:`python_edges`, adds the Python assets' edges to the parent and child maps of
every manifest dbt writes in a braid process.

* **Exact selection.** Each batch is a set of unique_ids braid already chose with dbt's own
  selector. dbt's selection syntax has no exact "this node" method (``fqn:`` matches
  prefixes, so model ``a`` would also pull in ``models/a/*``), and evaluating thousands of
  criteria costs seconds on a large project. So :func:`exact_selection` makes
  ``NodeSelector.get_selected`` return the set (after dbt's own resource-type filtering).
* **Project hooks once per braid run.** A braid run is several dbt invocations, but the
  project's ``on-run-start`` hooks must run once before the first and its ``on-run-end`` hooks
  once after the last, with the results of the whole run (dbt's ``results`` context).
  :func:`hooks` says, per invocation, which hook types run and which earlier results
  ``on-run-end`` also sees; ``nodes=False`` runs the hooks and no node (the last planned
  batch was skipped entirely, yet the run's ``on-run-end`` is still due). Its ``selected``
  is what dbt's ``selected_resources`` holds in every invocation of the run: the whole
  run's dbt selection, as one ``dbt build`` would have it (hooks read it, and
  ``--favor-state`` defers only what it does not hold).
* **One console stream.** While an invocation runs under :func:`stream`, dbt numbers its
  nodes from the run's one counter (``k of N`` over dbt nodes and Python assets together),
  and its header (version, adapter, "Found ...", concurrency) and end-of-run lines
  ("Finished running", "Completed ...", ``Done.``) become debug lines: braid prints them once
  for the whole run (:mod:`.events`). Debug lines still reach ``logs/dbt.log``. The
  invocation is kept on dbt's task too, for the runners dbt makes on its pool threads
  (``dbt build`` makes a model's and its unit tests' there), where the context variable is
  not set. dbt's deprecation summary waits for the run's end, after ``Done.``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cache
from typing import Any

_FORCED: ContextVar[frozenset[str] | None] = ContextVar("braid_forced_selection", default=None)


@dataclass(frozen=True)
class HookPlan:
    """Which project hooks one dbt invocation of a braid run runs."""

    start: bool = True
    end: bool = True
    #: dbt results of the run's earlier invocations, added to on-run-end's ``results``
    earlier: Sequence[Any] = field(default_factory=tuple)
    #: False: run the hooks, execute no node
    nodes: bool = True
    #: dbt's ``selected_resources`` in this invocation (None: the invocation's own)
    selected: frozenset[str] | None = None


_HOOKS: ContextVar[HookPlan | None] = ContextVar("braid_hook_plan", default=None)


#: dbt's per-invocation header events, printed once per braid run instead
_HEADER = frozenset({"MainReportVersion", "AdapterRegistered", "FoundStats", "ConcurrencyLine"})
#: how dbt reports an exception that escaped its command (an interrupt, when stopping)
_INTERRUPT_ERRORS = frozenset({"MainEncounteredError", "MainStackTrace"})


@dataclass
class StreamState:
    """What dbt's patched methods need of a braid run's console: its ``k of N``
    (``next_index`` hands out k as nodes start, of ``total``), and whether the run is being
    stopped (Ctrl-C, SIGTERM), when dbt's report of the interrupt as an error with a
    traceback becomes a debug line: braid reports the stop, once."""

    next_index: Callable[[], int]
    total: int
    stopping: Callable[[], bool] = lambda: False
    #: what dbt prints between "Finished running" and the results (``dbt seed --show``'s
    #: tables), kept by the invocations for the run's one summary
    end_messages: list[Callable[[], None]] = field(default_factory=list)


@cache
def old_release_note() -> str | None:
    """What dbt prints under "Running with dbt=" in every invocation on a release it no
    longer patches (1.10): printed once per braid run too (:func:`.events.fire_header`)."""
    try:
        from dbt.deprecated_version import INFO_MSG, is_deprecated_version
    except ImportError:  # a release without the notice
        return None
    return INFO_MSG if is_deprecated_version() else None


class _Invocation:
    """One dbt invocation inside a braid run's console stream."""

    def __init__(self, stream_state: StreamState) -> None:
        self.stream_state = stream_state
        #: "header" until the blank line after ConcurrencyLine, then "body"
        self.phase = "header"
        self.tail = False
        #: on-run-end failed: dbt's report of it waits for the run's end
        self.end_failed = False

    def quiets(self, event: Any) -> bool:
        name = type(event).__name__
        if self.tail or (name in _INTERRUPT_ERRORS
                         and (self.stream_state.stopping() or self.end_failed)):
            return True
        if self.phase == "body":
            return False
        if name == "Note" and getattr(event, "msg", None) == old_release_note():
            return True
        if name == "ConcurrencyLine":
            self.phase = "after-concurrency"
            return True
        if name == "Formatting":
            if self.phase == "after-concurrency":
                self.phase = "body"
            return True
        return name in _HEADER


_STREAM: ContextVar[_Invocation | None] = ContextVar("braid_console_stream", default=None)
#: while braid parses (quietly): dbt's warnings, (event, level), to show after the header
_PARSE_WARNINGS: ContextVar[list[tuple[Any, Any]] | None] = ContextVar(
    "braid_parse_warnings", default=None)
#: declaring source/exposure -> the dbt nodes a Python asset reads (for parent_map/child_map)
_PYTHON_EDGES: dict[str, tuple[str, ...]] = {}
_installed = False


def python_edges(edges: dict[str, tuple[str, ...]]) -> None:
    """The Python assets' edges, added to every manifest dbt writes in this process: dbt's
    own tools (``dbt docs``, ``state:`` comparisons, lineage readers) see an unbroken chain
    model -> Python-written source -> model in ``parent_map``/``child_map``."""
    _install()
    _PYTHON_EDGES.clear()
    _PYTHON_EDGES.update(edges)


def _install() -> None:
    global _installed
    if _installed:
        return
    _install_selection()
    _install_hooks()
    _install_stream()
    _installed = True


def _install_selection() -> None:
    """Exact selection, and the Python assets' edges in every manifest's maps."""
    from dbt.contracts.graph.manifest import Manifest
    from dbt.graph.selector import NodeSelector

    get_selected = NodeSelector.get_selected

    def exact_get_selected(self: Any, spec: Any, warn_on_no_nodes: bool = True) -> Any:
        forced = _FORCED.get()
        if forced is None:
            return get_selected(self, spec, warn_on_no_nodes)
        return self.filter_selection({u for u in forced if u in self.graph})

    build_maps = Manifest.build_parent_and_child_maps

    def maps_with_python(self: Any) -> None:
        build_maps(self)
        for child, parents in _PYTHON_EDGES.items():
            if child not in self.parent_map:
                continue
            known = self.parent_map[child]
            for parent in parents:
                if parent in self.child_map and parent not in known:
                    known.append(parent)
                    self.child_map[parent].append(child)

    Manifest.build_parent_and_child_maps = maps_with_python  # type: ignore[method-assign]
    NodeSelector.get_selected = exact_get_selected  # type: ignore[method-assign]


def _install_hooks() -> None:
    """The project's hooks once per run, with the whole run's results and selection."""
    import dbt.selected_resources as chosen
    from dbt.task.run import RunTask
    from dbt.task.runnable import GraphRunnableTask

    get_hooks = RunTask.get_hooks_by_type

    def planned_hooks(self: Any, hook_type: Any) -> Any:
        plan = _HOOKS.get()
        kind = str(getattr(hook_type, "value", hook_type))
        if plan is not None and not (plan.start if kind == "on-run-start" else plan.end):
            return []
        return get_hooks(self, hook_type)

    after_run = RunTask.after_run

    def after_whole_run(self: Any, adapter: Any, results: Any) -> Any:
        plan = _HOOKS.get()
        if plan is not None and plan.earlier:
            results = [*plan.earlier, *results]
        try:
            return after_run(self, adapter, results)
        except BaseException as exc:
            invocation = _STREAM.get()
            if invocation is not None:
                # on-run-end failed after every node ran (dbt exits 2): their results are
                # kept on the error for the run's records, and the run's end says it once
                invocation.end_failed = True
                exc.braid_results = self.get_result(  # type: ignore[attr-defined]
                    results=self.node_results, elapsed_time=time.time() - self.started_at,
                    generated_at=datetime.now(timezone.utc).replace(tzinfo=None))
            raise

    execute_nodes = GraphRunnableTask.execute_nodes

    def maybe_execute_nodes(self: Any) -> Any:
        # on dbt's main thread: the runners its pool threads make read the stream here
        self._braid_invocation = _STREAM.get()
        plan = _HOOKS.get()
        if plan is not None and not plan.nodes:
            return []
        return execute_nodes(self)

    set_selected = chosen.set_selected_resources

    def whole_run_selected(selected_resources: set[Any]) -> None:
        plan = _HOOKS.get()
        set_selected(set(plan.selected) if plan is not None and plan.selected is not None
                     else selected_resources)

    RunTask.get_hooks_by_type = planned_hooks  # type: ignore[method-assign]
    RunTask.after_run = after_whole_run  # type: ignore[method-assign]
    GraphRunnableTask.execute_nodes = maybe_execute_nodes  # type: ignore[method-assign]
    chosen.set_selected_resources = whole_run_selected


def _install_stream() -> None:
    from dbt.task.run import RunTask
    from dbt.task.runnable import GraphRunnableTask
    from dbt_common.events.base_types import EventLevel
    from dbt_common.events.event_manager import EventManager

    get_runner = GraphRunnableTask.get_runner

    def numbered_runner(self: Any, node: Any) -> Any:
        runner = get_runner(self, node)
        invocation = _STREAM.get() or getattr(self, "_braid_invocation", None)
        if invocation is not None and not node.is_ephemeral_model:
            runner.node_index = invocation.stream_state.next_index()
            runner.num_nodes = invocation.stream_state.total
        return runner

    fire_event = EventManager.fire_event

    def fire_or_quiet(self: Any, e: Any, level: Any = None, *args: Any, **kwargs: Any) -> Any:
        kept = _PARSE_WARNINGS.get()
        if (kept is not None and (level or e.level_tag()) == EventLevel.WARN
                and type(e).__name__ != "DeprecationsSummary"):  # the run's end shows it
            kept.append((e, level))
        invocation = _STREAM.get()
        if invocation is not None and invocation.quiets(e):
            level = EventLevel.DEBUG
        return fire_event(self, e, level, *args, **kwargs)

    def quieted(method: Callable[..., Any]) -> Callable[..., Any]:
        def run_quietly(self: Any, *args: Any, **kwargs: Any) -> Any:
            invocation = _STREAM.get()
            if invocation is None:
                return method(self, *args, **kwargs)
            invocation.tail = True
            try:
                return method(self, *args, **kwargs)
            finally:
                invocation.tail = False

        return run_quietly

    for cls in (GraphRunnableTask, RunTask):
        for name in ("print_results_line", "task_end_messages"):
            if name in vars(cls):
                setattr(cls, name, quieted(vars(cls)[name]))
    import dbt.task.run as run_module

    run_end = run_module.print_run_end_messages

    def run_end_once(*args: Any, **kwargs: Any) -> None:
        # a failing on-run-end prints them from RunTask.after_run; the run's end does
        if _STREAM.get() is None:
            run_end(*args, **kwargs)

    run_module.print_run_end_messages = run_end_once
    _install_seed_end(quieted)
    _install_deprecations_summary()
    GraphRunnableTask.get_runner = numbered_runner  # type: ignore[method-assign]
    EventManager.fire_event = fire_or_quiet  # type: ignore[method-assign]


def _install_seed_end(quieted: Callable[..., Any]) -> None:
    """``dbt seed``'s end: its summary is quieted as every invocation's is; the tables
    ``--show`` asks for are kept for the run's one summary, where dbt prints them."""
    from dbt.task.runnable import GraphRunnableTask
    from dbt.task.seed import SeedTask

    seed_end = SeedTask.task_end_messages
    summary = quieted(GraphRunnableTask.task_end_messages)

    def seed_end_messages(self: Any, results: Any) -> None:
        invocation = _STREAM.get()
        if invocation is None:
            return seed_end(self, results)
        if getattr(self.args, "show", False):
            # the seeds' own results: on-run-end's (braid's hooks plan) hold no table
            seeds = [r for r in results if getattr(r, "agate_table", None) is not None]
            invocation.stream_state.end_messages.append(lambda: self.show_tables(seeds))
        return summary(self, results)

    SeedTask.task_end_messages = seed_end_messages  # type: ignore[method-assign]


def _install_deprecations_summary() -> None:
    """dbt prints its deprecation summary as each command ends; a braid run prints it once,
    after its own end (:func:`.events.fire_summary`), with every invocation's counted."""
    import dbt.cli.requires as requires

    summary = requires.show_deprecations_summary

    def summary_unless_in_a_run() -> None:
        if _STREAM.get() is None:
            summary()

    requires.show_deprecations_summary = summary_unless_in_a_run


@contextmanager
def stream(stream_state: StreamState | None) -> Iterator[None]:
    """While active (on this thread), dbt's invocation is part of one braid console stream."""
    _install()
    token = _STREAM.set(_Invocation(stream_state) if stream_state is not None else None)
    try:
        yield
    finally:
        _STREAM.reset(token)


@contextmanager
def parse_warnings() -> Iterator[list[tuple[Any, Any]]]:
    """While active (on this thread), dbt's warnings are kept as they fire: braid parses
    with ``--quiet``, before its header, and shows them where dbt does, after the header's
    adapter line (:func:`.events.fire_header`)."""
    _install()
    kept: list[tuple[Any, Any]] = []
    token = _PARSE_WARNINGS.set(kept)
    try:
        yield kept
    finally:
        _PARSE_WARNINGS.reset(token)


@contextmanager
def exact_selection(nodes: Iterable[str]) -> Iterator[None]:
    """While active (on this thread), dbt's node selection returns exactly ``nodes``."""
    _install()
    token = _FORCED.set(frozenset(nodes))
    try:
        yield
    finally:
        _FORCED.reset(token)


@contextmanager
def hooks(plan: HookPlan | None) -> Iterator[None]:
    """While active (on this thread), dbt runs the project hooks as ``plan`` says."""
    _install()
    token = _HOOKS.set(plan)
    try:
        yield
    finally:
        _HOOKS.reset(token)
