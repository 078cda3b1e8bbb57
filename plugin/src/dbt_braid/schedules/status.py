"""Each schedule as ``braid schedules`` and the catalog show it. Pure: the runs and the
time are given."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from dbt_braid.schedules.clock import is_due, next_tick
from dbt_braid.schedules.config import Schedule


def last_runs(runs: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """schedule name -> its latest recorded run."""
    latest: dict[str, Mapping[str, Any]] = {}
    for run in runs:
        name = run.get("schedule")
        if name and str(run.get("started_at") or "") > str(
                latest.get(name, {}).get("started_at") or ""):
            latest[name] = run
    return latest


def started(run: Mapping[str, Any] | None) -> datetime | None:
    if not run or not run.get("started_at"):
        return None
    return datetime.fromisoformat(str(run["started_at"]))


def since(s: Schedule, last: Mapping[str, Any] | None, seen: Mapping[str, datetime],
          now: datetime) -> datetime | None:
    """What a tick must come after for ``s`` to be due: its last recorded start; for a
    schedule that never ran, when braid first saw it (``now`` when unknown), or nothing
    with ``catch_up`` (due at once)."""
    if last is not None:
        return started(last)
    return None if s.catch_up else seen.get(s.name, now)


def due(schedules: Sequence[Schedule], runs: Iterable[Mapping[str, Any]], now: datetime,
        seen: Mapping[str, datetime]) -> list[Schedule]:
    latest = last_runs(runs)
    return [s for s in schedules
            if is_due(s.cron, s.timezone, since(s, latest.get(s.name), seen, now), now)]


def schedule_rows(schedules: Sequence[Schedule], runs: Iterable[Mapping[str, Any]],
                  now: datetime, seen: Mapping[str, datetime]) -> list[dict[str, Any]]:
    latest = last_runs(runs)
    rows = []
    for s in schedules:
        last = latest.get(s.name)
        rows.append({
            "name": s.name, "cron": s.cron, "timezone": s.timezone, "runs": s.describe(),
            "next": next_tick(s.cron, s.timezone, now).isoformat(timespec="minutes"),
            "due": is_due(s.cron, s.timezone, since(s, last, seen, now), now),
            "catch_up": s.catch_up,
            "last_run": str(last["started_at"])[:19] if last else None,
            "last_run_id": last.get("run_id") if last else None,
            "last_result": last.get("status") if last else None,
        })
    return rows
