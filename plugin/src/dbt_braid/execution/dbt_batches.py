"""The engine's dbt side: each batch of a plan as one in-process dbt invocation.

A batch runs between the ``before_dbt_batch`` and ``after_dbt_batch`` hooks; while it runs,
dbt's ``NodeStart``/``NodeFinished`` events reach the ``before_dbt_node``/``after_dbt_node``
hooks and tell the engine which nodes are done (so a Python asset may start mid-batch).
The project's hooks run once per braid run: ``on-run-start`` in the first invocation,
``on-run-end`` in the last planned batch with every batch's results before it
(:class:`~dbt_braid.dbtcore.patches.HookPlan`); in every invocation, dbt's
``selected_resources`` is the whole run's dbt selection. A selected ephemeral model goes
into each invocation of nodes downstream of it: dbt compiles it there, and when that fails
skips them as one ``dbt build`` would ("caused by compilation error in referenced ephemeral
model").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import networkx as nx

from dbt_braid import console
from dbt_braid.core.results import NodeResult
from dbt_braid.dbtcore.patches import HookPlan, StreamState
from dbt_braid.dbtcore.project import DbtProject
from dbt_braid.execution.dbt_results import batch_results, finished_event
from dbt_braid.execution.signals import StopFlag
from dbt_braid.planning.batches import Plan

#: what the engine passes for each finished dbt node: (unique_id, dbt's node status)
Notify = Callable[[str, Any], None]


class DbtBatches:
    """Runs the plan's batches of dbt nodes for the engine; keeps dbt's own result of each
    invocation (:attr:`results`) for run_results.json, the summary and the on-run-end hooks."""

    def __init__(self, project: DbtProject, graph: Any, pm: Any, run_id: str, command: str,
                 flags: Sequence[str], plan: Plan, stream_state: StreamState,
                 stop: StopFlag) -> None:
        self.project = project
        self.graph = graph
        self.pm = pm
        self.run_id = run_id
        self.command = command
        self.flags = list(flags)
        self.last_batch = len(plan.batches) - 1
        self.batches = len(plan.batches)
        #: what one dbt command with the run's selection would select (dbt build keeps unit
        #: tests out of it: they run with their model)
        self.selected = frozenset(
            uid for uid in (*plan.dbt_nodes, *plan.ephemeral)
            if graph.nodes[uid].get("resource_type") != "unit_test")
        #: each selected ephemeral model -> the nodes downstream of it
        self.ephemeral = {uid: nx.descendants(graph, uid) for uid in plan.ephemeral}
        self.planned = plan.dbt_nodes
        #: the dbt nodes handed to dbt so far (the engine skips the others)
        self.handed: set[str] = set()
        self.stream_state = stream_state
        self.stop = stop
        #: dbt's result of each invocation that reported results, in order
        self.results: list[Any] = []
        #: the project's on-run-end failed (after its invocation's nodes ran): dbt exits 2
        self.end_failure: BaseException | None = None

    def __call__(self, index: int, nodes: list[str], notify: Notify) -> list[NodeResult]:
        project = self.project
        console.debug(
            f"braid: dbt invocation {project.invocations + 1} "
            f"(batch {index + 1} of {self.batches}): {' '.join(nodes)}"
        )
        self.pm.hook.before_dbt_batch(run_id=self.run_id, batch_index=index,
                                      unique_ids=list(nodes))
        self.handed.update(nodes)
        end = index == self.last_batch
        hook_plan = HookPlan(
            start=not self.results,
            end=end,
            earlier=self._earlier(with_skips=end),
            selected=self.selected,
        )
        wanted = set(nodes)
        compiled = [e for e, below in self.ephemeral.items() if not wanted.isdisjoint(below)]
        result = project.invoke(self.command, [*nodes, *sorted(compiled)], self.flags,
                                [self._events(notify)], hook_plan, self.stream_state)
        ended = getattr(result.exception, "braid_results", None)
        if ended is not None and not isinstance(result.exception, KeyboardInterrupt):
            self.end_failure, result.result = result.exception, ended
        if getattr(result.result, "results", None) is not None:
            self.results.append(result.result)
        if isinstance(result.exception, KeyboardInterrupt) or self.stop.is_set():
            # dbt may swallow the KeyboardInterrupt (where it lands in dbt's code decides);
            # the flag set by braid's own handler does not get lost
            raise self.stop.exception()
        found = batch_results(result, nodes, project.invocations - 1, self.graph)
        self.pm.hook.after_dbt_batch(run_id=self.run_id, batch_index=index, results=found)
        return found

    def _earlier(self, with_skips: bool) -> tuple[Any, ...]:
        """What on-run-end adds to its invocation's results: the earlier invocations', and
        (for the run's last) a skip for each planned dbt node braid did not hand to dbt, as
        dbt's own skips would be there."""
        from dbt_braid.dbtcore.artifacts import skipped_result

        found = [r for batch in self.results for r in batch.results]
        if with_skips:
            nodes = self.project.manifest.nodes
            found += [skipped_result(nodes[uid]) for uid in self.planned
                      if uid not in self.handed and uid in nodes]
        return tuple(found)

    def _events(self, notify: Notify) -> Callable[[Any], None]:
        """dbt's event callback for one invocation: node starts and ends, to hooks and engine."""
        graph, pm, run_id, project = self.graph, self.pm, self.run_id, self.project

        def callback(event: Any) -> None:
            name = event.info.name
            if name == "NodeFinished":
                info = event.data.node_info
                notify(info.unique_id, info.node_status)
                if info.unique_id in graph:
                    try:
                        pm.hook.after_dbt_node(run_id=run_id, result=finished_event(
                            event.data, graph, project.invocations - 1))
                    except Exception as exc:  # noqa: BLE001 - never the node's failure
                        console.warn(f"braid: after_dbt_node for {info.unique_id}: {exc}")
            elif name == "NodeStart":
                uid = event.data.node_info.unique_id
                if uid in graph:
                    pm.hook.before_dbt_node(run_id=run_id, unique_id=uid)

        return callback

    def finish_hooks(self) -> None:
        """The project's on-run-end hooks, when the last planned batch did not run them (it
        was skipped entirely): one more invocation that runs the hooks and no node."""
        project, done = self.project, self.results
        ran_end = any(
            str(getattr(r.node, "unique_id", "")).startswith("operation.")
            and "on-run-end" in (getattr(r.node, "tags", None) or [])
            for batch in done for r in batch.results
        )
        if ran_end or self.end_failure is not None or not project.has_hooks("on-run-end"):
            return
        some_node = next(r.node.unique_id for batch in done for r in batch.results
                         if not r.node.unique_id.startswith("operation."))
        earlier = self._earlier(with_skips=True)
        result = project.invoke(self.command, [some_node], self.flags, (),
                                HookPlan(start=False, end=True, earlier=earlier, nodes=False,
                                         selected=self.selected),
                                self.stream_state)
        if getattr(result.result, "results", None) is not None:
            done.append(result.result)
