"""A Python asset's ``timeout``, and which failures are worth another attempt.

A thread cannot be killed, so a timed attempt runs its work (loading inputs, the function)
on a watched thread of its own. When the time is up the attempt fails at once: its thread is
asked to stop (an exception raised into it, which a pure-Python loop obeys; a call blocked
in C code notices only when it returns) and is abandoned, a daemon that cannot hold up the
end of the run. Nothing it returns afterwards is stored: the result is written by the
runner's thread, never by the abandoned one. The store itself is not timed: a write that has
started finishes, as on Ctrl-C, so the records and the warehouse agree.
"""

from __future__ import annotations

import contextvars
import ctypes
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from dbt_braid.declare.policies import shown

T = TypeVar("T")

#: DB-API and client exceptions that mean "the connection failed", by class name, so that
#: no driver needs importing: PEP 249's OperationalError and InterfaceError, dbt's
#: FailedToConnectError, DuckDB's HTTPException (httpfs reads)
TRANSIENT = frozenset({"OperationalError", "InterfaceError", "FailedToConnectError",
                       "HTTPException"})


class TimedOut(Exception):
    """An attempt ran longer than the asset's ``timeout``."""


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is a lost or refused connection: worth retrying
    under the asset's ``retries`` even though it came from loading or storing."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (ConnectionError, TimeoutError)):
            return True
        if any(cls.__name__ in TRANSIENT for cls in type(current).__mro__):
            return True
        current = current.__cause__ or current.__context__
    return False


class Deadline:
    """One budget of ``limit`` seconds for the timed parts of an attempt (None: no limit)."""

    def __init__(self, limit: float | None) -> None:
        self.limit = limit
        self.end = None if limit is None else time.monotonic() + limit

    def remaining(self) -> float | None:
        """Seconds left (None: no limit); raises :class:`TimedOut` when none are."""
        if self.end is None:
            return None
        left = self.end - time.monotonic()
        if left <= 0:
            raise self._expired()
        return left

    def expired(self) -> TimedOut:
        """The error for an attempt whose time ran out elsewhere (in a worker)."""
        return self._expired()

    def run(self, call: Callable[[], T]) -> T:
        if self.end is None or self.limit is None:
            return call()
        remaining = self.end - time.monotonic()
        if remaining <= 0:
            raise self._expired()
        box: dict[str, Any] = {}
        done = threading.Event()
        context = contextvars.copy_context()

        def work() -> None:
            try:
                box["value"] = context.run(call)
            except BaseException as exc:  # noqa: BLE001 - handed to the attempt's thread
                box["error"] = exc
            finally:
                done.set()

        worker = threading.Thread(target=work, name="braid-timed-asset", daemon=True)
        worker.start()
        if not done.wait(remaining):
            _raise_in(worker, TimedOut)
            raise self._expired()
        if "error" in box:
            raise box["error"]
        return box["value"]

    def _expired(self) -> TimedOut:
        assert self.limit is not None
        return TimedOut(f"timed out after {shown(self.limit)} (meta.braid.timeout); the "
                        "attempt was stopped and nothing was stored")


def within(limit: float | None) -> Deadline:
    return Deadline(limit)


def _raise_in(thread: threading.Thread, exc_type: type[BaseException]) -> None:
    """Ask ``thread`` to stop: ``exc_type`` is raised in it at its next Python bytecode."""
    if thread.ident is not None:
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident),
                                                   ctypes.py_object(exc_type))
