"""The built-in ``processes`` executor: Python assets' calls in a pool of worker processes.

For CPU-bound assets (pure Python, numpy code that holds the GIL), which threads run one at a
time. The workers are started by ``forkserver`` (``spawn`` where there is none), never by
``fork``: by the time an asset runs, dbt has started threads in this process, and a forked
child inherits their locks in whatever state they were. The fork server starts, and does
its imports (pandas, Arrow), while dbt parses (:func:`prestart`); one worker per core, at
most ``--threads``, is forked from it as the run starts. Workers ignore Ctrl-C: the braid
process decides what stops, and ends them when the run is interrupted.

A worker that dies (killed, out of memory) breaks Python's pool: the calls running in it at
that moment fail with a clear message, and the next call gets a new pool.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from dbt_braid.core.markers import hookimpl
from dbt_braid.execution.compute import main_not_rerun, warm

NAME = "processes"


def _start_method() -> str:
    methods = multiprocessing.get_all_start_methods()
    return "forkserver" if "forkserver" in methods else "spawn"


def _context() -> Any:
    context = multiprocessing.get_context(_start_method())
    if context.get_start_method() == "forkserver":
        # the fork server imports these once; each worker forked from it has them
        context.set_forkserver_preload(["dbt_braid.execution.compute", "pandas", "pyarrow"])
    return context


def prestart() -> None:
    """While dbt parses: the fork server started, its imports done (see warm_up)."""
    if _start_method() == "forkserver":
        _context()
        from multiprocessing import forkserver

        with main_not_rerun():
            forkserver.ensure_running()
    warm()  # this process packs the inputs and unpacks the results as Arrow


def _worker_started() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class ProcessExecutor(Executor):
    """A process pool that gives way to a new one when a worker dies."""

    remote = True
    #: called while dbt parses (executors.warm_up)
    prestart = staticmethod(prestart)

    def __init__(self, threads: int) -> None:
        self.workers = max(1, min(threads, os.cpu_count() or 1))
        self.context = _context()
        self._lock = threading.Lock()
        #: the calls submitted (not the warm-ups), to tell at shutdown whether one is left
        self._calls: list[Future[Any]] = []
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=self.context,
                                   initializer=_worker_started)
        with main_not_rerun():  # the workers start as these are submitted
            for _ in range(self.workers):
                pool.submit(warm)
        return pool

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self._lock:
            try:
                future = self._pool.submit(fn, *args, **kwargs)
            except BrokenProcessPool:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = self._new_pool()
                future = self._pool.submit(fn, *args, **kwargs)
            self._calls = [f for f in self._calls if not f.done()] + [future]
            return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            pool = self._pool
            # at the run's end every asset has its result: a call still running was given
            # up on (past its timeout, stuck in native code) and is not waited for
            abandoned = any(not f.done() for f in self._calls)
        if wait and not abandoned:
            pool.shutdown(wait=True, cancel_futures=cancel_futures)
            return
        # the run was stopped, or a call was abandoned: the workers are ended
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            if process.is_alive():
                process.terminate()


@hookimpl
def register_executors(register: Any) -> None:
    register(NAME, ProcessExecutor)
