"""The scheduler: dbt batches one at a time on this thread, Python assets in a pool.

dbt's in-process invocations are not thread-safe, so batches run here, in order. Python
assets run in a thread pool of ``threads`` workers and start as soon as everything they need
has finished: dbt's per-node ``NodeFinished`` events count, so an asset does not wait for the
rest of a batch it does not read from. A batch starts once the Python assets upstream of it
are done. A failure skips what is downstream of it; independent branches go on unless
``fail_fast``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import networkx as nx

from dbt_braid.assets import PythonAsset
from dbt_braid.execution.python_runner import PythonRunner, now_iso
from dbt_braid.execution.results import FAILED, NodeResult
from dbt_braid.planning import Plan

#: (index, nodes) -> per-node results; called on the engine's thread only
DbtBatchRunner = Callable[[int, list[str], Callable[[str, str], None]], list[NodeResult]]


class Engine:
    def __init__(
        self,
        plan: Plan,
        graph: nx.DiGraph,
        assets: Mapping[str, PythonAsset],
        python: PythonRunner,
        run_batch: DbtBatchRunner,
        *,
        threads: int = 1,
        fail_fast: bool = False,
        on_result: Callable[[NodeResult], None] = lambda r: None,
        on_start: Callable[[str], None] = lambda uid: None,
    ) -> None:
        self.plan = plan
        self.graph = graph
        self.assets = assets
        self.python = python
        self.run_batch = run_batch
        self.threads = max(1, threads)
        self.fail_fast = fail_fast
        self.on_result = on_result
        self.on_start = on_start
        self.results: dict[str, NodeResult] = {}
        #: node -> status, as soon as it is known (from dbt's events for dbt nodes)
        self.finished: dict[str, str] = {}
        self.cond = threading.Condition()
        self.pending_python = {s.unique_id: s for s in plan.python}
        self.stopped = False
        self.futures: list[Future[NodeResult]] = []

    # ----- bookkeeping (all under self.cond) -----
    def _blocked_by(self, uid: str) -> str | None:
        for need in sorted(self.plan.needs.get(uid, ())):
            if self.finished.get(need) in FAILED:
                return need
        return None

    def _skip(self, uid: str, reason: str) -> None:
        data = self.graph.nodes[uid]
        result = NodeResult(
            uid, data["name"], data["resource_type"], "skipped", message=reason, invocation=None
        )
        self.results[uid] = result
        self.finished[uid] = "skipped"
        self.on_result(result)

    def _finish(self, uid: str, status: str) -> None:
        self.finished[uid] = status
        if status in ("error", "fail") and self.fail_fast:
            self.stopped = True
        self._schedule()
        self.cond.notify_all()

    def _schedule(self) -> None:
        """Start (or skip) every Python asset whose needs have all finished."""
        progress = True
        while progress:
            progress = False
            for uid, step in list(self.pending_python.items()):
                if not all(n in self.finished for n in step.needs):
                    continue
                del self.pending_python[uid]
                progress = True
                blocker = self._blocked_by(uid)
                if self.stopped:
                    self._skip(uid, "skipped: --fail-fast stopped the run")
                elif blocker:
                    self._skip(uid, f"skipped: upstream {blocker} did not succeed")
                else:
                    self.on_start(uid)
                    self.futures.append(self.pool.submit(self._run_python, uid))

    def _run_python(self, uid: str) -> NodeResult:
        result = self.python.run(self.assets[uid])
        with self.cond:
            self.results[uid] = result
            self.on_result(result)
            self._finish(uid, result.status)
        return result

    def _dbt_event(self, uid: str, status: str) -> None:
        with self.cond:
            if uid in self.plan.needs:
                self._finish(uid, status)

    # ----- the run -----
    def run(self) -> list[NodeResult]:
        with ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="braid-py") as pool:
            self.pool = pool
            with self.cond:
                self._schedule()
            for batch in self.plan.batches:
                with self.cond:
                    while not all(p in self.finished for p in batch.needs_python):
                        self.cond.wait(timeout=0.5)
                    to_run = []
                    for uid in batch.nodes:
                        blocker = self._blocked_by(uid)
                        if self.stopped:
                            self._skip(uid, "skipped: --fail-fast stopped the run")
                        elif blocker:
                            self._skip(uid, f"skipped: upstream {blocker} did not succeed")
                        else:
                            to_run.append(uid)
                    self._schedule()
                if not to_run:
                    continue
                batch_results = self.run_batch(batch.index, to_run, self._dbt_event)
                with self.cond:
                    for result in batch_results:
                        self.results[result.unique_id] = result
                        self.on_result(result)
                        self.finished[result.unique_id] = result.status
                    for uid in to_run:
                        if uid not in self.results:
                            self._skip(uid, "skipped: dbt did not run it")
                    if any(r.status in ("error", "fail") for r in batch_results) and self.fail_fast:
                        self.stopped = True
                    self._schedule()
                    self.cond.notify_all()
            with self.cond:
                while self.pending_python or any(not f.done() for f in self.futures):
                    self._schedule()
                    self.cond.wait(timeout=0.5)
        for f in self.futures:
            f.result()  # re-raise a bug in braid itself, never a user's error
        return [self.results[u] for u in self.plan.order if u in self.results]


def elapsed_since(t0: float) -> float:
    return round(time.perf_counter() - t0, 3)


_ = (Any, now_iso)
