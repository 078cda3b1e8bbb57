"""Run one Python asset: load its inputs, call the user's function, store the result."""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import os
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from dbt_braid import console
from dbt_braid.assets import PythonAsset, Relation
from dbt_braid.declare.policies import shown
from dbt_braid.execution.context import AssetContext
from dbt_braid.execution.results import NodeResult
from dbt_braid.execution.timeouts import TimedOut, is_transient, within
from dbt_braid.io.base import IOManager, QueryRunner, StoredRef
from dbt_braid.io.frames import columns_of


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat()


def user_traceback(exc: BaseException, function: Callable[..., Any]) -> str:
    """The traceback from the user's function down, without braid's own frames."""
    tb = exc.__traceback__
    code = getattr(function, "__code__", None)
    while tb is not None and code is not None and tb.tb_frame.f_code is not code:
        tb = tb.tb_next
    if tb is None:
        tb = exc.__traceback__
    return "".join(traceback.format_exception(type(exc), exc, tb))


class RunStopped(Exception):
    """An asset finished after its run was stopped: its result is not stored."""


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
        warehouse = io.get("table")
        self.warehouse: QueryRunner | None = warehouse if hasattr(warehouse, "query") else None  # type: ignore[assignment]
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

    def _load(self, asset: PythonAsset, arg: str, uid: str) -> Any:
        ref, io_name = self.refs[uid]
        annotation = asset.annotations.get(arg)
        deferred = self.deferred.get(uid)
        if deferred is None:
            return self.io[io_name].load(ref, annotation)
        if self.favor_state:
            return self.io[io_name].load(deferred, annotation)
        try:
            return self.io[io_name].load(ref, annotation)
        except LookupError:  # not built in this target: read what the state names, as dbt
            return self.io[io_name].load(deferred, annotation)

    def run(self, asset: PythonAsset) -> NodeResult:
        """The asset's result, after as many attempts as its ``retries`` allow: each failed
        attempt that is retried is kept in ``result.attempts`` (history records them all)."""
        if self.empty is not None:
            return self._run_empty(asset)
        earlier: list[NodeResult] = []
        policy = asset.retries
        attempt = 1
        while True:
            result, retryable = self._attempt(asset, attempt)
            if result.status == "success" or attempt > policy.count or not retryable:
                result.attempts = earlier
                return result
            wait = policy.wait(attempt)
            result.status = "retried"
            console.say(f"braid: {asset.name}: attempt {attempt} of {policy.count + 1} failed "
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

    def _attempt(self, asset: PythonAsset, attempt: int) -> tuple[NodeResult, bool]:
        """One attempt: (its result, whether a failure may be retried: the function's own
        error, a timeout, or a transient connection error while loading or storing)."""
        started = now_iso()
        t0 = time.perf_counter()
        result = NodeResult(asset.unique_id, asset.name, "python", "success",
                            started_at=started, attempt=attempt)
        retryable = False
        # the module is imported here, when the asset is about to run, if nothing did before
        stage = f"importing {asset.python}"
        function: Callable[..., Any] | None = None
        try:
            function = asset.function
            stage = "loading inputs"
            deadline = within(asset.timeout)
            kwargs: dict[str, Any] = {
                arg: deadline.run(functools.partial(self._load, asset, arg, uid))
                for arg, uid in asset.inputs.items()
            }
            kwargs.update(asset.params)
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
                    **self.context_extras(asset),
                )
            self.before(asset)
            stage = "running"
            call = function
            value = deadline.run(lambda: self._call(asset, call, kwargs))
            if context is not None:
                result.metadata = dict(context._metadata)
            # the write is not timed: once it starts it finishes (one transaction), so
            # what the records say is what the warehouse holds
            stage = f"storing the result ({asset.io})"
            with self._storing(asset.unique_id):
                result.rows_written = self.io[asset.io].store(asset, value)
            result.columns = columns_of(value)
            where = asset.relation or f"the {asset.io} store"
            if result.rows_written is not None:
                result.message = f"wrote {result.rows_written} rows to {where}"
            else:
                result.message = "OK" if value is None else f"stored in {where}"
        except BaseException as exc:  # SystemExit from user code too: it is their error
            result.status = "error"
            one_line = " ".join(f"{type(exc).__name__}: {exc}".split())
            if isinstance(exc, TimedOut):
                result.message = str(exc)
                retryable = True
            elif stage == "running" and function is not None:
                # the user's own code: show them their traceback
                result.message = one_line
                result.traceback = user_traceback(exc, function)
                retryable = not isinstance(exc, (KeyboardInterrupt, RunStopped))
            else:
                # loading or storing: one line says what is wrong (BRAID_DEBUG=1 for more)
                result.message = f"{stage}: {one_line}"
                retryable = is_transient(exc)
                if os.environ.get("BRAID_DEBUG"):
                    result.traceback = "".join(traceback.format_exception(exc))
        result.execution_time = time.perf_counter() - t0
        result.completed_at = now_iso()
        return result, retryable

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
        as_arrow = getattr(self.warehouse, "query_arrow", None)
        if as_arrow is not None:
            return as_arrow(sql)
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
