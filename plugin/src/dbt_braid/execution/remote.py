"""The driver's side of a call made in a worker (``--executor processes`` or ``dask``).

The runner loads the inputs and stores the result as with threads; between the two it hands
the call to the executor as a :class:`~dbt_braid.execution.compute.ComputeTask` and waits.
What comes back is made to look like a call in this process: the worker's log records are
written here under the asset's name (so the console and the logs show them as an asset's
lines), a timeout is :class:`TimedOut`, the user's error keeps their traceback, and a worker
that died is :class:`WorkerLost`, which fails that attempt only (retried under ``retries``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import CancelledError, Executor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from dbt_braid import console
from dbt_braid.execution.compute import (
    ComputeTask,
    Relations,
    pack,
    run_task,
    unpack,
    worker_context,
)
from dbt_braid.execution.timeouts import Deadline

#: how long past an asset's timeout the driver waits for the worker to say it timed out (the
#: worker stops the call itself; this only covers a worker stuck where it cannot)
GRACE = 10.0


class WorkerLost(Exception):
    """The worker running the call died or was lost (its process killed, out of memory)."""


class RemoteFailure(Exception):
    """The user's function raised in a worker: its message and their traceback, as text."""

    def __init__(self, message: str, traceback: str | None) -> None:
        super().__init__(message)
        self.message = message
        self.traceback = traceback


class RemoteCalls:
    """Sends calls to one executor (the run's) and turns what comes back into a call's end."""

    def __init__(self, executor: Executor, name: str,
                 relations: Callable[[], Mapping[tuple[str, str], str | None]]) -> None:
        self.executor = executor
        self.name = name
        self._relations_of = relations
        self._relations: Relations | None = None
        self._lock = threading.Lock()

    def relations(self) -> Relations:
        """Every ref and source a context may ask for, looked up once per run."""
        with self._lock:
            if self._relations is None:
                self._relations = Relations(dict(self._relations_of()))
            return self._relations

    def call(self, asset: Any, kwargs: Mapping[str, Any], deadline: Deadline, key: str
             ) -> tuple[Any, dict[str, Any]]:
        """(the function's value, what the context's add_metadata collected)."""
        sent = dict(kwargs)
        if "context" in sent and asset.wants_context:
            sent["context"] = worker_context(sent["context"], self.name, self.relations())
        limit = deadline.remaining()
        task = ComputeTask(
            key=key,
            name=asset.name,
            function=asset.function_ref,
            kwargs={name: pack(value) for name, value in sent.items()},
            timeout=limit,
            log_level=logging.getLogger().getEffectiveLevel(),
        )
        try:
            future = self.executor.submit(run_task, task)
            outcome = future.result(timeout=None if limit is None else limit + GRACE)
        except FutureTimeout:
            future.cancel()
            raise deadline.expired() from None
        except CancelledError:
            raise WorkerLost(f"the call was cancelled in the {self.name} executor (the run "
                             "is stopping)") from None
        except Exception as exc:  # the executor's own failure, never the user's
            raise WorkerLost(lost_message(self.name, exc)) from None
        with console.asset_logging(asset.name):
            for logger, level, text in outcome.logs:
                logging.getLogger(logger).log(level, text)
        if outcome.timed_out:
            raise deadline.expired()
        if outcome.error is not None:
            raise RemoteFailure(outcome.error, outcome.traceback)
        return unpack(outcome.value), outcome.metadata


def lost_message(executor: str, exc: BaseException) -> str:
    """One line for an executor's failure to bring a call back."""
    kind = type(exc).__name__
    detail = " ".join(str(exc).split())
    if kind == "BrokenProcessPool":
        return ("the worker process running it died (killed, out of memory or a crash in "
                f"native code); --executor {executor}: {detail}")
    if kind == "KilledWorker":
        return ("the Dask worker running it was lost (its process died or was killed) "
                f"and the scheduler gave up on the task: {detail}")
    return f"--executor {executor} could not run it: {kind}: {detail}"
