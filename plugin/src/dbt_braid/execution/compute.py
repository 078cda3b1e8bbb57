"""The user's function call as a task another process can run: what crosses, and back.

With ``--executor processes`` or ``dask`` the driver (the ``braid`` process) still loads every
input and stores every result: DuckDB allows one writing process, the warehouse credentials
stay in one place, and a window's write stays one transaction. Only the call crosses to a
worker, as a :class:`ComputeTask` that pickles: the function by reference (its module is
imported in the worker, :class:`~dbt_braid.core.loader.FunctionRef`), the inputs and the result
as Arrow IPC bytes where they are frames (pandas, polars, Arrow), anything else as pickle.

In the worker :func:`run_task` calls the function under the same timeout as a thread would,
collects the log records the call writes, and never raises: the user's error comes back as
text (its message and the traceback from their function down), because a worker's exception
and traceback objects do not survive the trip.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import inspect
import io
import logging
import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from dbt_braid.core.loader import FunctionRef
from dbt_braid.execution.timeouts import TimedOut, within

#: log records at this level and above come back from a worker (the driver's console
#: decides what it shows, as for an asset running in a thread)
_CAPTURE_LEVEL = logging.DEBUG


@dataclass(frozen=True)
class Packed:
    """A frame in Arrow's IPC stream format, and which library it goes back into."""

    kind: str  # pandas | polars | arrow
    data: bytes


def pack(value: Any) -> Any:
    """A frame as :class:`Packed` (Arrow bytes); any other value as it is (it is pickled)."""
    kind = _frame_kind(value)
    if kind is None:
        return value
    import pyarrow as pa

    try:
        table = (pa.Table.from_pandas(value) if kind == "pandas"
                 else value.to_arrow() if kind == "polars" else value)
    except (pa.ArrowException, TypeError, ValueError):
        return value  # e.g. a pandas column of mixed Python objects: pickled as it is
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return Packed(kind, sink.getvalue())


def unpack(value: Any) -> Any:
    if not isinstance(value, Packed):
        return value
    import pyarrow as pa

    table = pa.ipc.open_stream(value.data).read_all()
    if value.kind == "pandas":
        return table.to_pandas()
    if value.kind == "polars":
        import polars as pl

        return pl.from_arrow(table)
    return table


def _frame_kind(value: Any) -> str | None:
    module = type(value).__module__.split(".")[0]
    name = type(value).__name__
    if module == "pandas" and name == "DataFrame":
        return "pandas"
    if module == "polars" and name == "DataFrame":
        return "polars"
    if module == "pyarrow" and name == "Table":
        return "arrow"
    return None


class NoWarehouse:
    """``context.sql`` in a worker: the warehouse connection is the driver's alone."""

    def __init__(self, executor: str) -> None:
        self.executor = executor

    def query(self, sql: str) -> Any:
        raise RuntimeError(
            f"context.sql is not available under --executor {self.executor}: the workers only "
            "compute, the braid process reads and writes the warehouse; declare the table as "
            "an input (depends_on) instead")


@dataclass(frozen=True)
class Relations:
    """``context.ref``/``context.source`` in a worker: the relations, looked up beforehand."""

    found: Mapping[tuple[str, str], str | None] = field(default_factory=dict)

    def __call__(self, kind: str, name: str) -> str | None:
        return self.found.get((kind, name))


@dataclass(frozen=True)
class ComputeTask:
    """One call of a user's function, ready to cross to a worker."""

    #: the asset's unique_id, with the window and attempt where there are several
    key: str
    name: str
    function: FunctionRef
    #: keyword arguments, frames packed
    kwargs: Mapping[str, Any]
    #: seconds the call may take (what is left of the asset's timeout); None: no limit
    timeout: float | None = None
    #: the root logger's level in the driver: the worker's records below it are not sent
    log_level: int = logging.INFO


@dataclass
class Outcome:
    """What came back: the packed value, or the user's error as text; their log records."""

    value: Any = None
    metadata: dict[str, Any] = field(default_factory=dict)
    #: (logger name, level, message) in the order written
    logs: list[tuple[str, int, str]] = field(default_factory=list)
    #: ``ValueError: bad input`` when the call failed
    error: str | None = None
    traceback: str | None = None
    timed_out: bool = False


_COLLECTING: contextvars.ContextVar[list[tuple[str, int, str]] | None] = \
    contextvars.ContextVar("braid_collecting", default=None)


class _Collector(logging.Handler):
    """Keeps the records written while a task runs (its own context only: a Dask worker
    runs several tasks in threads)."""

    def emit(self, record: logging.LogRecord) -> None:
        into = _COLLECTING.get()
        if into is not None:
            text = record.getMessage()
            if record.exc_info:
                text += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
            into.append((record.name, record.levelno, text))


class _NotFromTasks(logging.Filter):
    def __init__(self, threshold: int) -> None:
        super().__init__()
        self.threshold = threshold

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= self.threshold and _COLLECTING.get() is None


_HANDLER = _Collector(_CAPTURE_LEVEL)


def run_task(task: ComputeTask) -> Outcome:
    """In the worker: import and call the function, never raising (see the module's text)."""
    outcome = Outcome()
    root = logging.getLogger()
    if _HANDLER not in root.handlers:
        # the worker's own handlers (an import's basicConfig) print neither a task's records,
        # which the driver prints, nor what lowering the level lets through
        before = root.getEffectiveLevel()
        for handler in root.handlers:
            handler.addFilter(_NotFromTasks(before))
        root.addHandler(_HANDLER)
    if root.level > task.log_level or root.level == logging.NOTSET:
        root.setLevel(task.log_level)
    token = _COLLECTING.set(outcome.logs)
    function = None
    try:
        function = task.function.load()
        kwargs = {name: unpack(value) for name, value in task.kwargs.items()}
        context = kwargs.get("context")
        value = within(task.timeout).run(lambda: _call(function, kwargs))
        if context is not None and hasattr(context, "_metadata"):
            outcome.metadata = dict(context._metadata)
        outcome.value = pack(value)
    except TimedOut as exc:
        outcome.error, outcome.timed_out = str(exc), True
    except BaseException as exc:  # noqa: BLE001 - the user's error, sent back as text
        outcome.error = " ".join(f"{type(exc).__name__}: {exc}".split())
        # a failed import has no frames of theirs: the loader's message says all
        outcome.traceback = user_traceback(exc, function) if function is not None else None
    finally:
        _COLLECTING.reset(token)
    return outcome


def _call(function: Any, kwargs: dict[str, Any]) -> Any:
    value = function(**kwargs)
    if inspect.iscoroutine(value):
        value = asyncio.run(value)
    return value


def user_traceback(exc: BaseException, function: Callable[..., Any]) -> str:
    """The traceback from the user's function down, without braid's own frames."""
    tb = exc.__traceback__
    code = getattr(function, "__code__", None)
    while tb is not None and code is not None and tb.tb_frame.f_code is not code:
        tb = tb.tb_next
    if tb is None:
        tb = exc.__traceback__
    return "".join(traceback.format_exception(type(exc), exc, tb))


def worker_context(context: Any, executor: str, relations: Relations) -> Any:
    """The asset's context as a worker gets it: no warehouse connection, relations looked
    up beforehand, nothing collected yet."""
    return dataclasses.replace(context, _warehouse=NoWarehouse(executor), _relations=relations,
                               _metadata={})


_MAIN_LOCK = threading.Lock()
#: how many hold the main module's file hidden (:func:`hide_main`), and the path hidden
_MAIN_HIDDEN: dict[str, Any] = {"count": 0, "path": None}


@contextmanager
def main_not_rerun() -> Iterator[None]:
    """Worker processes started meanwhile do not run the ``braid`` script again.

    A spawned (or fork-server) process first re-imports the parent's main module. For the
    ``braid`` console script that is ``dbt_braid.cli``, which imports dbt: seconds per worker,
    and dbt's tracker configures logging there, so the worker's own chatter would reach the
    console. A worker needs none of it (the task names what to import), so while workers
    start, the main module does not say where its file is, as for ``python -c``. A main module
    run with ``-m`` (pytest's) is left alone: it is imported by name, cheaply.
    """
    hide_main()
    try:
        yield
    finally:
        show_main()


def hide_main() -> None:
    """:func:`main_not_rerun` until :func:`show_main`: for a pool that starts workers of its
    own later (a Dask nanny restarts a worker that died), held as long as the pool lives.
    Holders are counted: the file comes back when the last one lets go."""
    with _MAIN_LOCK:
        _MAIN_HIDDEN["count"] += 1
        if _MAIN_HIDDEN["count"] > 1:
            return
        main = sys.modules.get("__main__")
        path = getattr(main, "__file__", None)
        if main is None or path is None or getattr(main, "__spec__", None) is not None:
            return
        del main.__file__
        _MAIN_HIDDEN["path"] = path


def show_main() -> None:
    with _MAIN_LOCK:
        _MAIN_HIDDEN["count"] = max(0, _MAIN_HIDDEN["count"] - 1)
        path = _MAIN_HIDDEN["path"]
        main = sys.modules.get("__main__")
        if _MAIN_HIDDEN["count"] == 0 and path is not None and main is not None:
            main.__file__ = path
            _MAIN_HIDDEN["path"] = None


def warm() -> None:
    """A first task for a new worker: the imports every task needs, before a real one."""
    import pandas  # noqa: F401
    import pyarrow  # noqa: F401


def dask_setup(worker: Any) -> None:
    """Dask calls this in a worker that preloads this module (the local cluster's do), so
    that the imports are done as the worker starts, while dbt parses, not in the first
    task."""
    warm()
