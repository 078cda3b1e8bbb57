"""Is this table up to date? Freshness from the history rows. Pure: no dbt, no database.

A node is stale, with the first reason that applies: it was never materialized; its last
attempt failed; its code changed since its last materialization (dbt's SQL checksum, or the
Python asset's code version: its function, the helpers it uses, its path and params); an
upstream node was materialized after it; an upstream node is itself stale. Otherwise it is
fresh. A seed or snapshot with no record at all is "unknown" (loaded by plain dbt without
the recorder) and makes nothing stale.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

import networkx as nx

from dbt_braid.core.windows import PartitionSpec
from dbt_braid.history.overdue import Policy, overdue
from dbt_braid.history.records import SUCCESS, has_version, materializing_parents, when
from dbt_braid.history.window_status import (
    Upstream,
    WindowState,
    node_reason,
    summary,
    window_freshness,
)

FAILED = frozenset({"error", "fail"})
#: what braid run does not build itself, so may have been built unrecorded
UNTRACKED = frozenset({"seed", "snapshot"})


@dataclass(frozen=True)
class NodeStatus:
    unique_id: str
    name: str
    kind: str
    last_run: str | None
    last_status: str | None
    state: str  # "fresh", "stale" or "unknown"
    reason: str
    #: the freshness policy it breaks and why, when it is overdue (history.overdue)
    overdue: str | None = None
    #: a partitioned asset's windows from ``begin`` to now: how many are done and fresh,
    #: which are stale, failed or missing (history.window_status.summary)
    windows: dict[str, Any] | None = None
    #: each of those windows, oldest first (not in to_dict: the summary says it)
    window_states: tuple[WindowState, ...] = field(default=(), compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        found = asdict(self)
        del found["window_states"]
        return found


def node_statuses(
    graph: nx.DiGraph, rows: Iterable[Mapping[str, Any]], only: Iterable[str] | None = None,
    policies: Mapping[str, list[Policy]] | None = None, now: datetime | None = None,
    partitions: Mapping[str, PartitionSpec] | None = None,
) -> dict[str, NodeStatus]:
    """Status of every materializing node of the graph (or of ``only``), by unique_id;
    with ``policies`` (unique_id -> its freshness policies), whether it is overdue at
    ``now``; with ``partitions`` (unique_id -> its spec), each partitioned asset's windows,
    each fresh or stale by its own computation (:mod:`dbt_braid.history.window_status`)."""
    at = now or datetime.now(timezone.utc)
    windows: dict[str, list[WindowState]] = {}
    by_node: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        by_node.setdefault(str(row["unique_id"]), []).append(row)
    for attempts in by_node.values():
        attempts.sort(key=when)
    statuses: dict[str, NodeStatus] = {}
    wanted = set(only) if only is not None else None
    for uid in nx.topological_sort(graph):
        data = graph.nodes[uid]
        if not has_version(data):
            continue
        attempts = [r for r in by_node.get(uid, []) if r.get("status") not in ("skipped", "no-op")]
        last = attempts[-1] if attempts else None
        successes = [r for r in attempts if r.get("status") in SUCCESS]
        good = successes[-1] if successes else None
        if uid in (partitions or {}):
            assert partitions is not None
            windows[uid] = _windows(graph, uid, partitions[uid], by_node, statuses, windows, at)
        if good is None and not by_node.get(uid) and data["resource_type"] in UNTRACKED:
            # loaded by a plain `dbt seed`/`dbt snapshot` without the on-run-end recorder:
            # braid cannot tell, and says so rather than calling everything downstream stale
            state, reason = ("unknown", "no materialization recorded (braid build records it, "
                             "or add the on-run-end hook braid.record_dbt_results)")
        else:
            state, reason = _judged(graph, uid, last, good, by_node, statuses, windows.get(uid))
        late = None
        if policies and policies.get(uid):
            late = overdue(policies[uid], str(good.get("completed_at")) if good else None, at)
        statuses[uid] = NodeStatus(
            uid, data["name"], data["resource_type"], when(last) if last else None,
            last.get("status") if last else None, state, reason, late,
            summary(windows[uid]) if uid in windows else None, tuple(windows.get(uid, ())),
        )
    if wanted is not None:
        return {u: s for u, s in statuses.items() if u in wanted}
    return statuses


def _judged(graph: nx.DiGraph, uid: str, last: Mapping[str, Any] | None,
            good: Mapping[str, Any] | None, by_node: Mapping[str, list[Mapping[str, Any]]],
            statuses: Mapping[str, NodeStatus],
            windows: list[WindowState] | None) -> tuple[str, str]:
    """(state, reason) of a recorded node from its last attempt and last success, the first
    reason that applies (the module's docstring lists them in order)."""
    data = graph.nodes[uid]
    failed_last = (last is not None and good is not None and last.get("status") in FAILED
                   and when(last) > when(good))
    if good is None:
        reason = "never materialized"
        if last is not None:
            reason += f" (last attempt {last.get('status')}: {last.get('message') or ''})"
        return "stale", reason
    if windows is not None and not (failed_last and last is not None
                                    and not last.get("partition_key")):
        reason = node_reason(windows)
        return ("stale", reason) if reason else ("fresh", "up to date")
    if failed_last and last is not None:
        return "stale", f"last attempt failed: {last.get('message') or last['status']}"
    if data.get("checksum") and good.get("code_version") != data.get("checksum"):
        return "stale", f"its {_what(data)} changed since it was last materialized"
    for parent in materializing_parents(graph, uid):
        upstream = [r for r in by_node.get(parent, []) if r.get("status") in SUCCESS]
        if upstream and when(upstream[-1]) > when(good):
            return "stale", f"upstream {graph.nodes[parent]['name']} was materialized after it"
        if parent in statuses and statuses[parent].state == "stale":
            return "stale", f"upstream {graph.nodes[parent]['name']} is stale"
    return "fresh", "up to date"


def _what(data: Mapping[str, Any]) -> str:
    """What a node's code version covers, as its stale reason says it."""
    if data["kind"] != "python":
        return "SQL"
    return "Python source, params or the vars it reads" if data.get("reads_vars") \
        else "Python source or params"


def _windows(graph: nx.DiGraph, uid: str, spec: PartitionSpec,
             by_node: Mapping[str, list[Mapping[str, Any]]], statuses: Mapping[str, NodeStatus],
             windows: Mapping[str, list[WindowState]], now: datetime) -> list[WindowState]:
    """A partitioned asset's windows, each judged against its upstream nodes (partitioned
    ones by their overlapping windows, judged before it in topological order)."""
    upstream = []
    for parent in materializing_parents(graph, uid):
        done = [when(r) for r in by_node.get(parent, []) if r.get("status") in SUCCESS]
        status = statuses.get(parent)
        upstream.append(Upstream(graph.nodes[parent]["name"], max(done, default=""),
                                 status is not None and status.state == "stale",
                                 windows.get(parent)))
    data = graph.nodes[uid]
    return window_freshness(spec, by_node.get(uid, []), now, data.get("checksum"), upstream,
                            f"its {_what(data)} changed since the window was computed")
