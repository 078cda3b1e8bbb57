"""The built-in ``dask`` executor: Python assets' calls on a Dask distributed cluster.

Dask distributed is what Dagster, Prefect, Hamilton and Kedro offer for Python beyond one
machine; braid uses it rather than inventing a cluster of its own. Needs the extra
``pip install 'dbt-braid[dask]'``.

The scheduler is ``--dask-address`` or ``braid.yml``'s ``executor: {dask: {address: ...}}``;
without one, a LocalCluster of single-threaded worker processes, one per core and at most
``--threads``, is started while dbt parses (:func:`prestart`) and closed at the end of the
run. A given address is connected to before anything runs, so a wrong one is a usage error
(exit 2).

Each call is one task, keyed by the asset's unique_id (plus its window and attempt, and a
token of the run, so that two runs on one scheduler never share a key). The workers only
compute (:mod:`dbt_braid.execution.compute`): inputs and results travel as Arrow, and this
process reads and writes the warehouse. The local cluster's scheduler gives up on a task at
its first lost worker (``allowed-failures: 0``), so a killed worker fails that asset at once
with a clear message instead of running the task again elsewhere; a scheduler given by
address keeps its own setting. What Dask logs in this process (the scheduler, the nannies,
the client) goes to logs/dbt.log as debug lines, never raw onto the console; the worker a
nanny starts in place of a dead one starts as the first ones did (braid's script is not run
again in it, so nothing there writes to the console either).
"""

from __future__ import annotations

import atexit
import importlib.util
import logging
import os
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

from dbt_braid import console
from dbt_braid.core.errors import BraidUserError
from dbt_braid.core.markers import hookimpl
from dbt_braid.execution.compute import hide_main, show_main, warm

NAME = "dask"

#: seconds to reach a scheduler given by address before the run is refused
CONNECT_TIMEOUT = "10s"


#: a LocalCluster started while dbt parses (:func:`prestart`), until an executor takes it
_WARM: dict[str, Any] = {}
_WARM_LOCK = threading.Lock()
_WARM_READY = threading.Event()


def _local_cluster(workers: int) -> Any:
    import dask
    from distributed import LocalCluster

    # the scheduler and the nannies run in this process: their records (a worker that died,
    # a task given up) are debug lines, in logs/dbt.log and not raw on the console; workers
    # and scheduler listen on 127.0.0.1
    _records_to_dbt_log()
    # while the cluster lives, a worker started later (the nanny restarts one that died,
    # scale() adds some) does not run the braid script again either, so dbt's logging is
    # not set up there and the worker's own start-up lines do not reach the console
    hide_main()
    try:
        with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
            return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                dashboard_address=None, silence_logs=logging.ERROR,
                                preload=["dbt_braid.execution.compute"])
    except BaseException:
        show_main()
        raise


def _records_to_dbt_log() -> None:
    console.records_as_debug("distributed", "tornado", level=logging.INFO)


def _close_cluster(cluster: Any) -> None:
    try:
        cluster.close()
    finally:
        show_main()


def prestart(address: str | None = None) -> None:
    """While dbt parses: a LocalCluster of one worker per core, for the run's executor to
    take (and scale to ``--threads``); with an address, Dask imported."""
    if importlib.util.find_spec("distributed") is None:
        return
    if address:
        import distributed  # noqa: F401 - the import is the slow part of connecting
        return
    with _WARM_LOCK:
        if "started" in _WARM:
            return
        _WARM["started"] = True
    try:
        _WARM["cluster"] = _local_cluster(os.cpu_count() or 1)
        atexit.register(_close_unclaimed)
    except BaseException:  # noqa: BLE001 - the executor starts its own then, and says why
        pass
    finally:
        _WARM_READY.set()
    # this process packs every input and unpacks every result as Arrow: imported now, they
    # do not hold the interpreter (and the scheduler living in it) once the calls start
    warm()


def _close_unclaimed() -> None:
    cluster = _WARM.pop("cluster", None)
    if cluster is not None:
        _close_cluster(cluster)


def _claim_warm(workers: int) -> Any:
    """The cluster prestart made (scaled to ``workers``), or None."""
    if "started" not in _WARM:
        return None
    _WARM_READY.wait()
    cluster = _WARM.pop("cluster", None)
    if cluster is not None and len(cluster.workers) != workers:
        cluster.scale(workers)
    return cluster


class DaskExecutor(Executor):
    remote = True
    #: called while dbt parses (executors.warm_up)
    prestart = staticmethod(prestart)

    def __init__(self, threads: int, address: str | None = None) -> None:
        if importlib.util.find_spec("distributed") is None:
            raise BraidUserError("--executor dask needs Dask distributed: pip install "
                                 "'dbt-braid[dask]'")
        #: a local cluster's workers: one per core, at most --threads
        self.workers = max(1, min(threads, os.cpu_count() or 1))
        self.address = address
        self.token = uuid.uuid4().hex[:8]
        self._cluster: Any = None
        self._client: Any = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        if address:
            self._connect()  # a wrong address is refused before anything runs
        else:
            threading.Thread(target=self._connect, name="braid-dask-start", daemon=True).start()

    def _connect(self) -> None:
        try:
            from distributed import Client

            _records_to_dbt_log()
            if self.address:
                try:
                    self._client = Client(self.address, timeout=CONNECT_TIMEOUT)
                except OSError as exc:
                    raise BraidUserError(
                        f"--executor dask: cannot reach the Dask scheduler at {self.address} "
                        f"({' '.join(str(exc).split())}); start it (dask scheduler) or fix "
                        "--dask-address / braid.yml executor.dask.address") from None
            else:
                self._cluster = _claim_warm(self.workers) or _local_cluster(self.workers)
                self._client = Client(self._cluster)
        except BaseException as exc:  # noqa: BLE001 - given to every call that waits
            self._error = exc
            if self.address:
                raise
        finally:
            self._ready.set()

    def _client_ready(self) -> Any:
        self._ready.wait()
        if self._error is not None:
            raise self._error
        return self._client

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        client = self._client_ready()
        task = args[0] if args else None
        key = f"{getattr(task, 'key', 'call')}-{self.token}"
        remote = client.submit(fn, *args, key=key, pure=False, retries=0, **kwargs)
        done: Future[Any] = Future()

        def settle(finished: Any) -> None:
            try:
                done.set_result(finished.result())
            except BaseException as exc:  # noqa: BLE001 - the caller reads it
                done.set_exception(exc)

        done.set_running_or_notify_cancel()
        remote.add_done_callback(settle)
        return done

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._ready.wait()
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            _close_cluster(self._cluster)


@hookimpl
def register_executors(register: Any) -> None:
    register(NAME, DaskExecutor)
