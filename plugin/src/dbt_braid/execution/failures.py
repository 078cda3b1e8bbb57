"""What a failed attempt of a Python asset tells the user, and whether to try again.

The user's own error shows their traceback (and may be retried); braid's loading or storing
shows one line (retried only when the connection failed); a stopped run's lost worker is a
skip, as a thread's call would be.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable
from typing import Any

from dbt_braid.core.results import NodeResult
from dbt_braid.execution.compute import user_traceback
from dbt_braid.execution.remote import RemoteFailure, WorkerLost
from dbt_braid.execution.timeouts import TimedOut, is_transient


class RunStopped(Exception):
    """An asset finished after its run was stopped: its result is not stored."""


def record_failure(result: NodeResult, exc: BaseException, stage: str,
                   function: Callable[..., Any] | None, stopping: bool) -> bool:
    """Mark the result failed (or skipped, for a stopped run's lost worker) with what the
    user needs to see, and say whether another attempt may help. ``stage`` is what the
    attempt was doing: only an error while ``running`` is the user's own code."""
    result.status = "error"
    one_line = " ".join(f"{type(exc).__name__}: {exc}".split())
    if isinstance(exc, TimedOut):
        result.message = str(exc)
        return True
    if isinstance(exc, RemoteFailure):  # the user's own error, in a worker
        result.message = exc.message
        result.traceback = exc.traceback
        return True
    if isinstance(exc, WorkerLost) and stopping:
        # the run was stopped and its workers ended: as a thread's call, skipped
        result.status = "skipped"
        result.message = "skipped: the run was stopped while it ran"
        return False
    if isinstance(exc, WorkerLost):
        result.message = str(exc)
        return True
    if stage == "running" and function is not None:
        # the user's own code: show them their traceback
        result.message = one_line
        result.traceback = user_traceback(exc, function)
        return not isinstance(exc, (KeyboardInterrupt, RunStopped))
    # loading or storing: one line says what is wrong (BRAID_DEBUG=1 for more)
    result.message = f"{stage}: {one_line}"
    if os.environ.get("BRAID_DEBUG"):
        result.traceback = "".join(traceback.format_exception(exc))
    return is_transient(exc)
