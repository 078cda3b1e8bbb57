"""dbt's results as braid's: a batch's run results, and one node's NodeFinished event."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

import networkx as nx

from dbt_braid.core.results import NodeResult

#: the end of dbt's message for a node skipped because an ephemeral model did not compile
_EPHEMERAL_CAUSE = re.compile(r"caused by compilation error in referenced ephemeral model (\S+)$")


def _utc(moment: datetime) -> datetime:
    """dbt's timings are naive UTC; braid's are aware, so the strings compare."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def batch_results(result: Any, nodes: list[str], index: int, graph: nx.DiGraph) -> list[NodeResult]:
    out: list[NodeResult] = []
    run_results = getattr(result.result, "results", None) if result.result is not None else None
    if run_results is None:
        message = f"dbt invocation failed: {result.exception}"
        for uid in nodes:
            data = graph.nodes[uid]
            out.append(
                NodeResult(
                    uid,
                    data["name"],
                    data["resource_type"],
                    "error",
                    message=message,
                    invocation=index,
                )
            )
        return out
    for r in run_results:
        uid = r.node.unique_id
        data = graph.nodes[uid] if uid in graph else {"name": r.node.name, "resource_type": "model"}
        adapter = r.adapter_response or {}
        rows = adapter.get("rows_affected") if isinstance(adapter, dict) else None
        starts = [_utc(t.started_at) for t in (r.timing or []) if t.started_at]
        ends = [_utc(t.completed_at) for t in (r.timing or []) if t.completed_at]
        cause = _EPHEMERAL_CAUSE.search(r.message or "")
        out.append(
            NodeResult(
                uid,
                data["name"],
                data["resource_type"],
                str(getattr(r.status, "value", r.status)),
                execution_time=round(float(r.execution_time or 0.0), 4),
                message=r.message,
                rows_written=rows if isinstance(rows, int) and rows >= 0 else None,
                invocation=index,
                started_at=min(starts).isoformat() if starts else None,
                completed_at=max(ends).isoformat() if ends else None,
                skipped_for=cause[1] if cause else None,
            )
        )
    return out


def finished_event(data: Any, graph: nx.DiGraph, invocation: int) -> NodeResult:
    """A dbt node's result from its NodeFinished event, as it finishes (the batch's results
    come later, when the whole invocation is over)."""
    run = data.run_result
    uid = data.node_info.unique_id
    adapter = run.adapter_response
    rows = adapter["rows_affected"] if "rows_affected" in adapter else None  # noqa: SIM401 - a protobuf Struct has no get()
    times = [(t.started_at, t.completed_at) for t in run.timing_info]
    starts = [s.ToDatetime(timezone.utc) for s, _ in times if s.seconds]
    ends = [e.ToDatetime(timezone.utc) for _, e in times if e.seconds]
    return NodeResult(
        uid, graph.nodes[uid]["name"], graph.nodes[uid]["resource_type"], run.status,
        execution_time=round(float(run.execution_time or 0.0), 4),
        message=run.message or None,
        rows_written=int(rows) if rows is not None and rows >= 0 else None,
        invocation=invocation,
        started_at=min(starts).isoformat() if starts else None,
        completed_at=max(ends).isoformat() if ends else None,
    )
