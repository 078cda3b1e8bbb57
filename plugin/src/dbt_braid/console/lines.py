"""braid's own lines, through dbt's event system once a run has set it up.

A ``braid run``/``build`` sets up dbt's loggers with the user's own flags
(:func:`dbt_braid.dbtcore.loggers.use_dbt_events`, then :func:`adopt_dbt_flags`): braid's
lines and every log record an asset writes (``context.log`` or the standard ``logging``
module) then become dbt ``Note`` events, so they reach the
console and ``logs/dbt.log`` with dbt's timestamps, follow ``--log-format json`` /
``--log-format-file``, ``--quiet``, ``--debug``, ``--no-use-colors`` and ``--log-path``, as
dbt's own lines do. braid's bookkeeping invocations (parse, history) reconfigure dbt's
loggers for themselves; :func:`restore_dbt_events` puts the user's back. Before that (and
for commands that print data, such as ``ls``) lines are plain ``HH:MM:SS  message`` writes.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any

_lock = threading.Lock()
#: the user's dbt flags once dbt's event loggers carry braid's lines
_FLAGS: list[Any] = []
#: set while an asset's function runs in this thread: its log records become dbt events
_IN_ASSET: ContextVar[str | None] = ContextVar("braid_in_asset", default=None)


def say(message: str = "", err: bool = False) -> None:
    if _FLAGS:
        _fire(message, logging.ERROR if err else logging.INFO)
        return
    stamp = datetime.now().strftime("%H:%M:%S")
    stream = sys.stderr if err else sys.stdout
    text = "".join(f"{stamp}  {line}\n" if line else "\n" for line in message.splitlines() or [""])
    with _lock:
        # one write per message: dbt logs from other threads between our lines
        stream.write(text)
        stream.flush()


def warn(message: str) -> None:
    """A warning of braid's own (history not recorded, lineage not sent): on stderr before
    dbt's loggers are set up, then a dbt warning (shown unless ``--quiet``)."""
    if _FLAGS:
        _fire(message, logging.WARNING)
    else:
        say(message, err=True)


def debug(message: str) -> None:
    """A line shown with ``--debug`` (and always in dbt.log, as dbt's debug lines are)."""
    if _FLAGS:
        _fire(message, logging.DEBUG)


def event(dbt_event: Any, err: bool = False) -> None:
    """One of dbt's own events (a Python asset's START, result or SKIP line, so that JSON
    logs carry it as dbt's node lines); before dbt's loggers are set up, its text as a
    plain line."""
    if not _FLAGS:
        say(dbt_event.message(), err=err)
        return
    from dbt_common.events.base_types import EventLevel
    from dbt_common.events.functions import fire_event

    fire_event(dbt_event, level=EventLevel.ERROR if err else EventLevel.INFO)


def records_as_debug(*names: str, level: int = logging.WARNING) -> None:
    """A library's loggers (Dask's scheduler, nanny and event loop, which live in braid's
    process) as debug lines: in logs/dbt.log and with ``--debug``, never in their own format
    on the console. Their handlers are replaced and nothing propagates to the root logger's
    (dbt's tracker puts a plain stderr handler there)."""
    for name in names:
        logger = logging.getLogger(name)
        logger.handlers[:] = [_DebugLines()]
        logger.propagate = False
        logger.setLevel(level)


def _fire(message: str, level: int) -> None:
    from dbt_common.events.base_types import EventLevel
    from dbt_common.events.functions import fire_event
    from dbt_common.events.types import Note

    kind = (EventLevel.ERROR if level >= logging.ERROR else EventLevel.WARN
            if level >= logging.WARNING else EventLevel.INFO if level >= logging.INFO
            else EventLevel.DEBUG)
    for line in message.splitlines() or [""]:
        fire_event(Note(msg=line), level=kind)


def adopt_dbt_flags(flags: Any) -> None:
    """From here on, braid's lines and assets' log records go through dbt's loggers,
    configured from ``flags`` (dbt's ``Flags`` for the user's command, made by
    :func:`dbt_braid.dbtcore.loggers.use_dbt_events`)."""
    _FLAGS[:] = [flags]
    restore_dbt_events()
    root = logging.getLogger()
    if any(isinstance(h, _AssetRecords) for h in root.handlers):
        return
    # The root level drops as low as the user's flags ask, so that an asset's INFO records
    # reach dbt's loggers; the handlers already on the root (dbt's tracker installs a plain
    # stderr one at import) keep the threshold they had and skip asset records, which
    # _AssetRecords carries: nothing prints twice or in raw ``INFO:name:msg`` form.
    before = root.getEffectiveLevel()
    for handler in root.handlers:
        handler.addFilter(_NotFromAssets(before))
    root.addHandler(_AssetRecords())
    wanted = logging.DEBUG if getattr(_FLAGS[0], "DEBUG", False) else logging.INFO
    if root.level > wanted or root.level == logging.NOTSET:
        root.setLevel(wanted)


def restore_dbt_events() -> None:
    """dbt's loggers as the user's flags make them (after braid's own quiet invocations)."""
    if _FLAGS:
        from dbt.events.logging import setup_event_logger

        setup_event_logger(_FLAGS[0])


@contextmanager
def asset_logging(name: str) -> Iterator[None]:
    """While an asset's function runs: its log records (any logger) become dbt events."""
    token = _IN_ASSET.set(name)
    try:
        yield
    finally:
        _IN_ASSET.reset(token)


class _NotFromAssets(logging.Filter):
    """For handlers that were on the root logger before braid lowered its level."""

    def __init__(self, threshold: int) -> None:
        super().__init__()
        self.threshold = threshold

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= self.threshold and _IN_ASSET.get() is None


class _AssetRecords(logging.Handler):
    """Log records written in a running asset's thread, as dbt Note events."""

    def emit(self, record: logging.LogRecord) -> None:
        name = _IN_ASSET.get()
        if name is None or not _FLAGS:
            return
        try:
            _fire(f"{name}: {record.getMessage()}", record.levelno)
        except Exception:
            self.handleError(record)


class _DebugLines(logging.Handler):
    """Log records as braid's debug lines (dropped before dbt's loggers are set up)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            debug(f"{record.name}: {record.getMessage()}")
        except Exception:
            self.handleError(record)
