"""SIGINT (Ctrl-C) and SIGTERM (what CI runners and Kubernetes send) stop a run the same way.

Both raise in the main thread (SIGTERM as :class:`Terminated`, a ``KeyboardInterrupt``, so
dbt's own handling of an interrupt applies to it too): scheduling stops, what has not
started is skipped, a table write under way finishes (it is one transaction) and is recorded
as what it was, results and history are written, and braid exits 130 or 143 with one line,
no traceback. dbt may swallow the ``KeyboardInterrupt`` where it lands in dbt's code, so
:class:`StopFlag` also remembers the signal.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled as Ctrl-C is."""


def exit_code(exc: BaseException) -> int:
    """The shell's code for a command stopped by the signal: 128 + its number."""
    return 128 + (signal.SIGTERM if isinstance(exc, Terminated) else signal.SIGINT)


def raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated


class StopFlag:
    """Set by the first SIGINT or SIGTERM of a run; says which."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.signum = 0

    def is_set(self) -> bool:
        return self.event.is_set()

    def exception(self) -> KeyboardInterrupt:
        return Terminated() if self.signum == signal.SIGTERM else KeyboardInterrupt()

    @property
    def name(self) -> str:
        return "SIGTERM" if self.signum == signal.SIGTERM else "Ctrl-C"


@contextmanager
def stop_on_signals(flag: StopFlag) -> Iterator[None]:
    """While active (main thread only), SIGINT and SIGTERM set ``flag`` and raise."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if not flag.is_set():
            flag.signum = signum
            flag.event.set()
        raise flag.exception()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
