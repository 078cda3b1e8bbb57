"""Run one Python asset: load its inputs, call the user's function, store the result."""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from dbt_braid import console
from dbt_braid.core.assets import PythonAsset, Relation
from dbt_braid.core.results import NodeResult
from dbt_braid.core.windows import Window
from dbt_braid.declare.policies import shown
from dbt_braid.execution.context import AssetContext
from dbt_braid.execution.failures import RunStopped, record_failure
from dbt_braid.execution.remote import RemoteCalls
from dbt_braid.execution.timeouts import Deadline, within
from dbt_braid.execution.window_runner import run_windows, summary
from dbt_braid.execution.window_store import store_window
from dbt_braid.io.base import ArrowQueries, IOManager, Queries, StoredRef, WindowReads, supports
from dbt_braid.io.frames import columns_of

#: (asset, window, its index from 1, how many) as a window starts; the result as it ends
WindowStarted = Callable[[PythonAsset, Window, int, int], None]
WindowFinished = Callable[[PythonAsset, NodeResult, int, int], None]


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat()


class PythonRunner:
    """Knows where each upstream value lives and how to run an asset against it."""

    def __init__(
        self,
        *,
        refs: Mapping[str, tuple[StoredRef, str]],
        io: Mapping[str, IOManager],
        run_id: str,
        target: Mapping[str, Any],
        project_dir: Path,
        before: Callable[[PythonAsset], None] = lambda a: None,
        context_extras: Callable[[PythonAsset], Mapping[str, Any]] = lambda a: {},
        empty: Mapping[str, Sequence[tuple[str, str]]] | None = None,
        deferred: Mapping[str, StoredRef] | None = None,
        favor_state: bool = False,
        windows: Mapping[str, Sequence[Window]] | None = None,
        event_times: Mapping[str, str] | None = None,
        threads: int = 1,
        rebuild: frozenset[str] = frozenset(),
        window_started: WindowStarted = lambda a, w, i, n: None,
        window_finished: WindowFinished = lambda a, r, i, n: None,
        remote: RemoteCalls | None = None,
    ) -> None:
        #: unique_id -> (where its value is, the IO manager that reads it)
        self.refs = refs
        self.io = io
        self.run_id = run_id
        self.target = target
        self.project_dir = project_dir
        self.before = before
        #: the asset -> further AssetContext fields (vars, flags, relation lookups)
        self.context_extras = context_extras
        #: with dbt's --empty: each source-table asset's declared (column, data_type)s
        self.empty = empty
        #: with --defer: unselected inputs -> where the --state manifest says they are
        self.deferred = dict(deferred or {})
        self.favor_state = favor_state
        #: each partitioned asset's windows for this run (planned before it starts)
        self.windows = dict(windows or {})
        #: unique_id -> its event_time column, for the inputs that have one: a partitioned
        #: asset reads only its window of them, as dbt's microbatch filters refs
        self.event_times = dict(event_times or {})
        self.threads = max(1, threads)
        #: partitioned assets rebuilt from ``begin`` (``--full-refresh``, not a retry's
        #: windows): their first window replaces the whole table
        self.rebuild = rebuild
        self.window_started = window_started
        self.window_finished = window_finished
        self._window_writes: dict[str, threading.Lock] = {}
        #: with a remote executor (processes, dask): the function is called in a worker,
        #: this process still loads and stores (execution.remote)
        self.remote = remote
        warehouse = io.get("table")
        self.warehouse: Queries | None = warehouse if supports(warehouse, Queries) else None
        #: set when the run is stopped: no store starts after it (see :meth:`stop`)
        self.stopping = False
        self._writes = threading.Condition()
        self._writing = 0
        #: assets whose result has begun to be stored: on a stop, the engine waits for
        #: their results, so that run_results and history agree with the warehouse
        self.stored: set[str] = set()

    def stop(self) -> None:
        """The run is stopping (Ctrl-C, SIGTERM): no result is stored from now on, and the
        stores under way (each one transaction) are waited for, so that what the records
        say of each asset is what the warehouse holds."""
        with self._writes:
            self.stopping = True
            self._writes.wait_for(lambda: self._writing == 0)

    @contextmanager
    def _storing(self, unique_id: str = "") -> Iterator[None]:
        with self._writes:
            if self.stopping:
                raise RunStopped("the run was stopped before the result was stored")
            self._writing += 1
            self.stored.add(unique_id)
        try:
            yield
        finally:
            with self._writes:
                self._writing -= 1
                self._writes.notify_all()

    def _load(self, asset: PythonAsset, arg: str, uid: str, window: Window | None = None
              ) -> Any:
        ref, io_name = self.refs[uid]
        annotation = asset.annotations.get(arg)
        manager = self.io[io_name]
        column = self.event_times.get(uid) if window is not None else None
        if column and supports(manager, WindowReads):
            assert window is not None
            low, high = window.naive_utc

            def read(where: StoredRef) -> Any:
                return manager.load_window(where, annotation, column, low, high)
        else:
            def read(where: StoredRef) -> Any:
                return manager.load(where, annotation)

        deferred = self.deferred.get(uid)
        if deferred is None:
            return read(ref)
        if self.favor_state:
            return read(deferred)
        try:
            return read(ref)
        except LookupError:  # not built in this target: read what the state names, as dbt
            return read(deferred)

    def run(self, asset: PythonAsset) -> NodeResult:
        """The asset's result, after as many attempts as its ``retries`` allow: each failed
        attempt that is retried is kept in ``result.attempts`` (history records them all).
        A partitioned asset runs each of its windows so, and its result sums theirs."""
        if self.empty is not None:
            return self._run_empty(asset)
        if asset.partitions is None:
            return self._with_retries(asset)
        windows = self.windows.get(asset.unique_id, [])
        if not windows:  # e.g. --event-time-start/-end before its begin: nothing to replace
            return NodeResult(asset.unique_id, asset.name, "python", "no-op",
                              started_at=now_iso(), completed_at=now_iso(),
                              message="no window to compute (the span chosen lies before "
                              f"begin {asset.partitions.begin.isoformat()})")
        started, t0 = now_iso(), time.perf_counter()
        places = {window: i for i, window in enumerate(windows, 1)}
        done = run_windows(asset, windows, functools.partial(self._window, asset, places),
                           self.threads)
        return summary(asset, done, started, now_iso(), time.perf_counter() - t0)

    def _window(self, asset: PythonAsset, places: Mapping[Window, int], window: Window
                ) -> NodeResult:
        index = places[window]
        if self.stopping:
            return NodeResult(asset.unique_id, asset.name, "python", "skipped",
                              message="skipped: the run was stopped", partition=window.key)
        self.window_started(asset, window, index, len(places))
        result = self._with_retries(asset, window, first=index == 1)
        self.window_finished(asset, result, index, len(places))
        return result

    def _with_retries(self, asset: PythonAsset, window: Window | None = None,
                      first: bool = False) -> NodeResult:
        earlier: list[NodeResult] = []
        policy = asset.retries
        attempt = 1
        while True:
            result, retryable = self._attempt(asset, attempt, window, first)
            if result.status == "success" or attempt > policy.count or not retryable:
                result.attempts = earlier
                return result
            wait = policy.wait(attempt)
            result.status = "retried"
            what = asset.name + (f" window {window.key}" if window is not None else "")
            console.say(f"braid: {what}: attempt {attempt} of {policy.count + 1} failed "
                        f"({result.message}); retrying in {shown(wait)}")
            earlier.append(result)
            if not self._sleep(wait):
                result.status = "error"
                result.attempts = earlier[:-1]
                return result
            attempt += 1

    def _sleep(self, seconds: float) -> bool:
        """Wait between attempts; False when the run is stopped meanwhile."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.stopping:
                return False
            time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))
        return not self.stopping

    def _call(self, asset: PythonAsset, function: Callable[..., Any],
              kwargs: dict[str, Any]) -> Any:
        """The user's function, run to completion (an ``async def`` on its own event loop
        in this worker, so it may await clients as it likes)."""
        with console.asset_logging(asset.name):
            value = function(**kwargs)
            if inspect.iscoroutine(value):
                value = asyncio.run(value)
        return value

    def _attempt(self, asset: PythonAsset, attempt: int, window: Window | None = None,
                 first: bool = False) -> tuple[NodeResult, bool]:
        """One attempt: (its result, whether a failure may be retried: the function's own
        error, a timeout, or a transient connection error while loading or storing)."""
        started = now_iso()
        t0 = time.perf_counter()
        result = NodeResult(asset.unique_id, asset.name, "python", "success",
                            started_at=started, attempt=attempt,
                            partition=window.key if window is not None else None)
        retryable = False
        # the module is imported here, when the asset is about to run, if nothing did before
        stage = f"importing {asset.python}"
        function: Callable[..., Any] | None = None
        try:
            function = asset.function
            stage = "loading inputs"
            deadline = within(asset.timeout)
            kwargs, context = self._arguments(asset, function, deadline, window)
            self.before(asset)
            stage = "running"
            if self.remote is None:
                call = function
                value = deadline.run(lambda: self._call(asset, call, kwargs))
                metadata = context._metadata if context is not None else {}
            else:
                key = asset.unique_id + (f"[{window.key}]" if window is not None else "") \
                    + (f"#{attempt}" if attempt > 1 else "")
                value, metadata = self.remote.call(asset, kwargs, deadline, key)
            if context is not None:
                result.metadata = dict(metadata)
            stage = f"storing the result ({asset.io})"
            self._store(asset, value, window, first, result)
        except BaseException as exc:  # SystemExit from user code too: it is their error
            retryable = record_failure(result, exc, stage, function, self.stopping)
        result.execution_time = time.perf_counter() - t0
        result.completed_at = now_iso()
        return result, retryable

    def _arguments(self, asset: PythonAsset, function: Callable[..., Any], deadline: Deadline,
                   window: Window | None) -> tuple[dict[str, Any], AssetContext | None]:
        """The function's keyword arguments: inputs loaded (within the timeout), params, the
        window's ``start``/``end`` it asks for, and the context if it takes one."""
        kwargs: dict[str, Any] = {
            arg: deadline.run(functools.partial(self._load, asset, arg, uid, window))
            for arg, uid in asset.inputs.items()
        }
        kwargs.update(asset.params)
        if window is not None:
            takes = inspect.signature(function).parameters
            kwargs.update({name: getattr(window, name) for name in ("start", "end")
                           if name in takes})
        context: AssetContext | None = None
        if asset.wants_context:
            kwargs["context"] = context = AssetContext(
                name=asset.name,
                unique_id=asset.unique_id,
                run_id=self.run_id,
                log=logging.getLogger(f"braid.asset.{asset.name}"),
                params=dict(asset.params),
                target=dict(self.target),
                project_dir=self.project_dir,
                _warehouse=self.warehouse,
                partition=window,
                **self.context_extras(asset),
            )
        return kwargs, context

    def _store(self, asset: PythonAsset, value: Any, window: Window | None, first: bool,
               result: NodeResult) -> None:
        """Write the value and say so on the result. The write is not timed: once it starts
        it finishes (one transaction), so what the records say is what the warehouse holds."""
        with self._storing(asset.unique_id):
            result.rows_written = (self.io[asset.io].store(asset, value) if window is None
                                   else self._store_window(asset, value, window, first))
        result.columns = columns_of(value)
        where = asset.relation or f"the {asset.io} store"
        if result.rows_written is not None:
            result.message = f"wrote {result.rows_written} rows to {where}"
        else:
            result.message = "OK" if value is None else f"stored in {where}"

    def _store_window(self, asset: PythonAsset, value: Any, window: Window, first: bool
                      ) -> int | None:
        """One window's write (execution.window_store); each asset's windows one at a time."""
        with self._window_writes.setdefault(asset.unique_id, threading.Lock()):
            return store_window(self.io[asset.io], asset, value, window,
                                rebuild=first and asset.unique_id in self.rebuild)

    def _run_empty(self, asset: PythonAsset) -> NodeResult:
        """dbt's ``--empty`` ("check the shapes, move no data"): a source-table asset writes
        an empty table of its source's declared columns without running the function; an
        exposure asset has no shape to check and does not run (``no-op``)."""
        started = now_iso()
        result = NodeResult(asset.unique_id, asset.name, "python", "no-op", started_at=started)
        columns = self.empty.get(asset.unique_id) if self.empty is not None else None
        if asset.relation is None or columns is None or self.warehouse is None:
            result.message = "--empty: an exposure asset moves data only without --empty"
        else:
            try:
                select = ", ".join(f"cast(null as {kind}) as {self._quote(name)}"
                                   for name, kind in columns)
                frame = self._typed_empty(f"select {select} limit 0")
                result.rows_written = self.io[asset.io].store(asset, frame)
                result.columns = columns_of(frame)
                result.status = "success"
                result.message = (f"--empty: wrote an empty table of {len(columns)} declared "
                                  f"columns to {asset.relation}")
            except Exception as exc:
                result.status = "error"
                result.message = "--empty: " + " ".join(f"{type(exc).__name__}: {exc}".split())
        result.completed_at = now_iso()
        return result

    def _typed_empty(self, sql: str) -> Any:
        """The zero rows of ``sql`` with their warehouse types: as Arrow where the table IO
        manager can (a DataFrame with no rows cannot tell a date or a string from any
        object), else a DataFrame whose untyped columns are taken as text."""
        if supports(self.warehouse, ArrowQueries):
            return self.warehouse.query_arrow(sql)
        assert self.warehouse is not None
        frame = self.warehouse.query(sql)
        for name in frame.select_dtypes(include="object").columns:
            frame[name] = frame[name].astype("string")
        return frame

    def _quote(self, name: str) -> str:
        from dbt_braid.io import adapter_sql

        return adapter_sql.quote(adapter_sql.adapter_class(str(self.target.get("type"))), name)


def relation_of(value: Any) -> Relation | None:
    """A graph node's ``relation`` string back into parts (database.schema.identifier)."""
    if not value:
        return None
    parts = str(value).split(".")
    if len(parts) == 3:
        return Relation(parts[0], parts[1], parts[2])
    if len(parts) == 2:
        return Relation(None, parts[0], parts[1])
    return None
