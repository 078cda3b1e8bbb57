"""The windows of the partitioned assets a run computes, chosen before anything runs."""

from __future__ import annotations

from typing import Any

from dbt_braid.core.windows import Window
from dbt_braid.history.windows import done_windows
from dbt_braid.planning.batches import Plan
from dbt_braid.planning.windows import plan_windows


def planned_windows(loaded: Any, plan: Plan, request: Any, warehouse: Any
                    ) -> dict[str, list[Window]]:
    """A plain run goes on from each asset's latest successful window in history (less its
    lookback), ``--event-time-start/-end`` choose, ``--full-refresh`` starts at ``begin``,
    a retry takes the windows that failed; the clock honours ``BRAID_NOW``."""
    from dbt_braid.schedules.clock import now

    partitioned = [loaded.assets[s.unique_id] for s in plan.python
                   if loaded.assets[s.unique_id].partitions is not None]
    if not partitioned:
        return {}
    named = request.windows or {}
    # history's latest window matters only to a plain run's assets whose windows no one named
    unnamed = [a.unique_id for a in partitioned if a.unique_id not in named]
    plain = request.event_time_start is None and not request.full_refresh
    done = done_windows(loaded.project, warehouse, unnamed) if plain and unnamed else {}
    return plan_windows(partitioned, done, now(), event_start=request.event_time_start,
                        event_end=request.event_time_end, full_refresh=request.full_refresh,
                        only=request.windows)
