"""When a schedule is due. Pure but for :func:`now`: every function takes the time it asks
about, so tests choose the clock (timezones and DST edges included) without sleeping.

A schedule is due when its most recent cron tick, in its own time zone, is later than the
start of its last recorded run: however many ticks were missed, that is one catch-up run,
and a second call right after finds nothing due.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from croniter import croniter


def now() -> datetime:
    """The current time (UTC), or ``BRAID_NOW`` (ISO 8601 with an offset): braid's clock,
    for schedules, freshness and windows; what runs with it runs for real (``braid run
    --due --dry-run`` only prints)."""
    given = os.environ.get("BRAID_NOW")
    if given:
        moment = datetime.fromisoformat(given)
        return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return datetime.now(timezone.utc)


def _repeat_of(tick: datetime, zone: str) -> datetime | None:
    """When clocks go back, a wall-clock time happens twice (02:30 in Berlin on the last
    Sunday of October); the second one is the same tick again, as cron runs a job at a fixed
    time once: the first occurrence (UTC) for the second, else None."""
    local = tick.astimezone(ZoneInfo(zone))
    if local.fold == 1:
        first = local.replace(fold=0).astimezone(timezone.utc)
        if first != tick.astimezone(timezone.utc):
            return first
    return None


def last_tick(cron: str, zone: str, at: datetime) -> datetime:
    """The latest tick of ``cron`` at or before ``at``, as an aware datetime in UTC. A time
    skipped when clocks go forward ticks at the first time after the gap (croniter's
    reading); a time repeated when they go back ticks once."""
    local = at.astimezone(ZoneInfo(zone))
    if local.second == 0 and local.microsecond == 0 and croniter.match(cron, local):
        tick = local.astimezone(timezone.utc)  # a tick exactly at `at` counts
    else:
        tick = croniter(cron, local).get_prev(datetime).astimezone(timezone.utc)
    return _repeat_of(tick, zone) or tick


def next_tick(cron: str, zone: str, at: datetime) -> datetime:
    """The first tick of ``cron`` after ``at``, in UTC (a repeated wall-clock time once)."""
    ticks = croniter(cron, at.astimezone(ZoneInfo(zone)))
    while True:
        tick = ticks.get_next(datetime).astimezone(timezone.utc)
        if _repeat_of(tick, zone) is None:
            return tick


def is_due(cron: str, zone: str, last_start: datetime | None, at: datetime) -> bool:
    """Whether a tick has passed since ``last_start`` (None: due). For a schedule that never
    ran, status.since gives when braid first saw it instead."""
    if last_start is None:
        return True
    if last_start.tzinfo is None:  # history keeps naive UTC
        last_start = last_start.replace(tzinfo=timezone.utc)
    return last_tick(cron, zone, at) > last_start
