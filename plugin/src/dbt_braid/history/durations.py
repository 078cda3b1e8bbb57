"""How long each node takes, by history: what the planner weighs a batch's wait against.

A node's duration is the median over its latest successful runs on this target (a
partitioned asset's windows of one run added up), from ``started_at``/``completed_at`` of
``braid_node_runs``: dbt's own execution timing for dbt nodes, the call and the store for
Python assets.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from dbt_braid.history import store
from dbt_braid.io.base import Queries, supports

#: the latest runs of the target whose rows are read
RECENT_RUNS = 20


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def node_durations(project: Any, warehouse: Any, uids: Iterable[str]) -> dict[str, float]:
    """unique_id -> seconds, for the nodes history has a successful run of."""
    if not supports(warehouse, Queries):
        return {}  # read through a dbt invocation it would cost more than it saves
    per_run: dict[tuple[str, str], float] = {}
    for row in store.node_rows(project, warehouse, uids, "status = 'success'", RECENT_RUNS):
        start, end = _moment(row.get("started_at")), _moment(row.get("completed_at"))
        if start is None or end is None:
            continue
        key = (str(row["unique_id"]), str(row["run_id"]))
        per_run[key] = per_run.get(key, 0.0) + max(0.0, (end - start).total_seconds())
    found: dict[str, list[float]] = {}
    for (uid, _), seconds in per_run.items():
        found.setdefault(uid, []).append(seconds)
    return {uid: statistics.median(values) for uid, values in found.items()}
