"""The scheduler: dbt batches one at a time on this thread, Python assets in an executor.

dbt's in-process invocations are not thread-safe, so batches run here, in order. Python
assets run in the run's executor (a thread pool of ``threads`` workers unless a plugin's
says otherwise) and start as soon as everything they need has finished: dbt's per-node
``NodeFinished`` events count, so an asset does not wait for the rest of a batch it does
not read from. A batch starts once the Python assets upstream of it
are done (these rules are :mod:`dbt_braid.planning.rules`, which the timing estimate uses
too). A failure skips what is downstream of it; independent branches go on unless
``fail_fast``. Ctrl-C stops scheduling: what has not started is skipped and the run ends
with the results it has.

Bookkeeping happens under one condition variable; callbacks (printing, plugin hooks) are
queued under it and run after it is released, so dbt's worker threads reporting events
never wait on a slow callback.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from functools import partial
from typing import Any

import networkx as nx

from dbt_braid.core.assets import PythonAsset
from dbt_braid.core.results import BROKE, FAILED, NodeResult
from dbt_braid.execution.python_runner import PythonRunner, now_iso
from dbt_braid.planning.batches import Plan
from dbt_braid.planning.rules import batch_may_start, python_may_start

#: (batch index, unique_ids, notify(unique_id, status)) -> per-node results; engine thread only
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
        on_finish: Callable[[NodeResult], None] = lambda r: None,
        on_skip: Callable[[NodeResult], None] = lambda r: None,
        executor: Callable[[int], Executor],
        ephemeral_cause_holds: bool = False,
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
        #: a Python asset's end, before anything downstream of it starts (causal lines)
        self.on_finish = on_finish
        #: a node the engine skipped (dbt's own skips are dbt's to report)
        self.on_skip = on_skip
        self.results: dict[str, NodeResult] = {}
        #: node -> status, as soon as it is known (from dbt's events for dbt nodes)
        self.finished: dict[str, str] = {}
        self.cond = threading.Condition()
        self.pending_python = {s.unique_id: s for s in plan.python}
        self.running = 0
        self.stopped: str | None = None
        self.interrupted = False
        self._outbox: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []
        #: makes the run's executor for Python assets from ``threads`` (register_executors)
        self.make_executor = executor
        self._pool: Executor | None = None
        #: dbt skips every node downstream of an ephemeral model that did not compile for
        #: that cause, unless (dbt build) a skip marks its own dependents again, plainly
        self.ephemeral_cause_holds = ephemeral_cause_holds

    # ----- under self.cond -----
    def _later(self, fn: Callable[..., Any], *args: Any) -> None:
        self._outbox.append((fn, args))

    def _blocked_by(self, uid: str) -> str | None:
        for need in sorted(self.plan.needs.get(uid, ())):
            if self.finished.get(need) in FAILED and not self._dbts_to_skip(uid, need):
                return need
        return None

    def _dbts_to_skip(self, uid: str, need: str) -> bool:
        """A dbt node downstream of an ephemeral model that failed to compile goes to dbt,
        which compiles that model with it and skips it with dbt's own reason."""
        cause = getattr(self.results.get(need), "skipped_for", None)
        return (self.ephemeral_cause_holds and cause is not None
                and self.graph.nodes[uid]["kind"] != "python"
                and cause in self.graph and nx.has_path(self.graph, cause, uid))

    def _record(self, result: NodeResult) -> None:
        self.results[result.unique_id] = result
        self.finished[result.unique_id] = result.status
        if result.status in BROKE and self.fail_fast and not self.stopped:
            self.stopped = "skipped: --fail-fast stopped the run"
        self._later(self.on_result, result)

    def _skip(self, uid: str, reason: str) -> None:
        data = self.graph.nodes[uid]
        result = NodeResult(uid, data["name"], data["resource_type"], "skipped", message=reason)
        self._record(result)
        self._later(self.on_skip, result)

    def _skip_reason(self, uid: str) -> str | None:
        if self.stopped:
            return self.stopped
        blocker = self._blocked_by(uid)
        return f"skipped: upstream {blocker} did not succeed" if blocker else None

    def _schedule(self) -> None:
        """Start (or skip) every Python asset whose needs have all finished."""
        progress = True
        while progress:
            progress = False
            for uid, step in list(self.pending_python.items()):
                if not python_may_start(step, self.finished):
                    continue
                del self.pending_python[uid]
                progress = True
                reason = self._skip_reason(uid)
                if reason:
                    self._skip(uid, reason)
                else:
                    assert self._pool is not None
                    self.running += 1
                    self._pool.submit(self._run_python, uid)
        self.cond.notify_all()

    # ----- outside the lock -----
    def _drain(self) -> None:
        with self.cond:
            todo, self._outbox = self._outbox, []
        for fn, args in todo:
            fn(*args)

    def _run_python(self, uid: str) -> None:
        asset = self.assets[uid]
        try:
            self.on_start(uid)
            result = self.python.run(asset)
        except BaseException as exc:  # a bug in braid or in a hook: the run must go on
            result = NodeResult(
                uid,
                asset.name,
                "python",
                "error",
                started_at=now_iso(),
                completed_at=now_iso(),
                message=f"{type(exc).__name__}: {exc}",
            )
        try:
            self.on_finish(result)
        finally:  # the result is recorded whatever printing it did
            with self.cond:
                self.running -= 1
                self._record(result)
                self._schedule()
            self._drain()

    def _dbt_event(self, uid: str, status: str) -> None:
        with self.cond:
            if uid in self.plan.needs and uid not in self.finished:
                self.finished[uid] = status
                if status in BROKE and self.fail_fast and not self.stopped:
                    self.stopped = "skipped: --fail-fast stopped the run"
                self._schedule()

    def _wait_for(self, ready: Callable[[], bool]) -> None:
        with self.cond:
            while not ready():
                self.cond.wait(timeout=1.0)

    # ----- the run -----
    def run(self) -> list[NodeResult]:
        pool = self.make_executor(self.threads)
        self._pool = pool
        try:
            with self.cond:
                self._schedule()
            self._drain()
            for batch in self.plan.batches:
                self._wait_for(partial(batch_may_start, batch, self.finished))
                with self.cond:
                    to_run = []
                    for uid in batch.nodes:
                        reason = self._skip_reason(uid)
                        if reason:
                            self._skip(uid, reason)
                        else:
                            to_run.append(uid)
                    self._schedule()
                self._drain()
                if not to_run:
                    continue
                batch_results = self.run_batch(batch.index, to_run, self._dbt_event)
                with self.cond:
                    for result in batch_results:
                        if result.unique_id in self.plan.needs:
                            self._record(result)
                    for uid in to_run:
                        if uid not in self.results:
                            self._record(
                                NodeResult(
                                    uid,
                                    self.graph.nodes[uid]["name"],
                                    self.graph.nodes[uid]["resource_type"],
                                    "error",
                                    message="dbt reported no result",
                                )
                            )
                    self._schedule()
                self._drain()
            self._wait_for(lambda: not self.pending_python and not self.running)
            self._drain()
        except KeyboardInterrupt:
            self.interrupted = True
            with self.cond:
                self.stopped = "skipped: interrupted (Ctrl-C)"
                for uid in self.plan.order:
                    data = self.graph.nodes[uid]
                    if data["kind"] == "python" or uid in self.results:
                        continue
                    if uid in self.finished:
                        # dbt reported it finished before the interrupt: keep what it said
                        self._record(
                            NodeResult(
                                uid,
                                data["name"],
                                data["resource_type"],
                                self.finished[uid],
                                message="finished before the interrupt",
                            )
                        )
                    else:
                        self._skip(uid, self.stopped)
                self._schedule()
            self._drain()
            # a store under way finishes and is recorded as what it was; none starts now
            self.python.stop()
            stored = set(getattr(self.python, "stored", ()))
            self._wait_for(lambda: stored <= set(self.results))
            self._drain()
        finally:
            pool.shutdown(wait=not self.interrupted, cancel_futures=True)
        with self.cond:
            for uid in self.plan.order:
                if uid not in self.results:
                    self._skip(uid, self.stopped or "skipped: did not run")
        self._drain()
        return [self.results[u] for u in self.plan.order if u in self.results]
