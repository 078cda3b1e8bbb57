"""OpenLineage events as the run happens: a node's START leaves when the node starts (dbt's
NodeStart event, or just before a Python asset's function runs), its COMPLETE or FAIL (with
the error message) when its result is known, the braid run's own START before anything runs
and its end last. A backend watching a long run sees what is running now, not a burst of
events when it is over.

The events themselves are built by :mod:`dbt_braid.emit.openlineage` (datasets and job
names shared with the static lineage); this module keeps one run's stream. Hooks run on
several threads (dbt's workers, the asset executor), so sending is serialised by a lock; a
backend that fails is warned about once and never fails the run.
"""

from __future__ import annotations

import threading
from typing import Any

import networkx as nx

from dbt_braid import console
from dbt_braid.core.assets import PythonAsset
from dbt_braid.core.markers import hookimpl
from dbt_braid.core.results import NodeResult, RunReport
from dbt_braid.dbtcore.project import DbtProject
from dbt_braid.emit import openlineage as ol
from dbt_braid.planning.batches import Plan


class LiveStream:
    """One braid run's OpenLineage events, sent as they happen."""

    def __init__(self, client: Any, run_id: str, command: str, project: DbtProject,
                 graph: nx.DiGraph) -> None:
        self.client = client
        self.run_id = run_id
        self.graph = graph
        self.namer = ol.Namer(graph, project)
        self.parent_job, self.parent = ol.parent_facet(run_id, command, project, self.namer)
        self.lock = threading.Lock()
        self.started: set[str] = set()
        self.ended: set[str] = set()
        self.warned = False

    def is_job(self, uid: str) -> bool:
        """A node that is a job of its own: not a project hook (an ``operation``)."""
        return uid in self.graph and self.graph.nodes[uid].get("resource_type") != "operation"

    def send(self, event: Any) -> None:
        with self.lock:
            try:
                self.client.emit(event)
            except Exception as exc:  # lineage is a side channel: never fail the run for it
                if not self.warned:
                    self.warned = True
                    console.warn(f"braid: could not send OpenLineage events: "
                                f"{type(exc).__name__}: {exc}")

    def begin(self, moment: str) -> None:
        self.send(ol.run_event("START", moment, self.run_id, self.namer, self.parent_job))

    def start(self, uid: str, moment: str | None = None) -> None:
        with self.lock:
            if uid in self.started or not self.is_job(uid):
                return
            self.started.add(uid)
        self.send(ol.node_event(uid, "START", moment, self.graph, self.namer, self.parent,
                                self.run_id))

    def result(self, result: NodeResult) -> None:
        if result.status not in ol.RAN or not self.is_job(result.unique_id):
            return
        with self.lock:
            if result.unique_id in self.ended:
                return
            self.ended.add(result.unique_id)
        self.start(result.unique_id, result.started_at)  # dbt may not have said it started
        self.send(ol.end_event(result, self.graph, self.namer, self.parent, self.run_id))

    def end(self, report: RunReport) -> None:
        """Whatever finished without an event (an interrupted batch), then the run's end."""
        for result in report.results:
            self.result(result)
        self.send(ol.run_event(ol.run_end(report), ol.last_time(report), self.run_id,
                               self.namer, self.parent_job))


_STREAMS: dict[str, LiveStream] = {}
_CURRENT: list[LiveStream] = []


def finish(run_id: str) -> LiveStream | None:
    """The run's stream, taken out (emit_lineage ends it)."""
    stream = _STREAMS.pop(run_id, None)
    if stream is not None and stream in _CURRENT:
        _CURRENT.remove(stream)
    return stream


@hookimpl
def start_run(run_id: str, command: str, plan: Plan, project: DbtProject,
              graph: nx.DiGraph) -> None:
    if not ol.configured():
        return
    try:
        from openlineage.client import OpenLineageClient

        stream = LiveStream(OpenLineageClient(), run_id, command, project, graph)
    except Exception as exc:
        console.warn(f"braid: could not send OpenLineage events: {type(exc).__name__}: {exc}")
        return
    _STREAMS[run_id] = stream
    _CURRENT.append(stream)
    stream.begin(ol.now())


@hookimpl
def before_dbt_node(run_id: str, unique_id: str) -> None:
    stream = _STREAMS.get(run_id)
    if stream is not None:
        stream.start(unique_id)


@hookimpl
def after_dbt_batch(run_id: str, batch_index: int, results: list[NodeResult]) -> None:
    stream = _STREAMS.get(run_id)
    if stream is not None:
        for result in results:
            stream.result(result)


@hookimpl
def before_python_asset(asset: PythonAsset, run_id: str) -> None:
    stream = _STREAMS.get(run_id)
    if stream is not None:
        stream.start(asset.unique_id)


@hookimpl
def after_python_asset(asset: PythonAsset, result: NodeResult) -> None:
    for stream in list(_CURRENT):
        if asset.unique_id in stream.graph:
            stream.result(result)
