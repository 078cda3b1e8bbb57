"""Which windows a partitioned asset computes, in dbt's microbatch words. Pure.

A window is ``[start, end)`` of one ``batch_size`` (hour, day, month or year), aligned to
its boundary in UTC, as dbt's microbatch batches are. A plain run computes from the last
window done (less ``lookback`` more) up to the one holding now, from ``begin`` the first
time; ``--event-time-start/--event-time-end`` choose the windows covering that span;
``--full-refresh`` starts again at ``begin``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

SIZES = ("hour", "day", "month", "year")


@dataclass(frozen=True)
class PartitionSpec:
    """``meta.braid.partitions`` once validated: dbt's microbatch config, for a Python asset."""

    event_time: str
    batch_size: str
    #: the start of the first window, aware (UTC unless the YAML named an offset)
    begin: datetime
    lookback: int = 1

    def windows(self, *, now: datetime, last_done: datetime | None = None,
                event_start: datetime | None = None, event_end: datetime | None = None,
                full_refresh: bool = False) -> list[Window]:
        return planned(self.batch_size, self.begin, self.lookback, now, last_done,
                       event_start, event_end, full_refresh)

    def window_of(self, key: str) -> Window:
        """The window a key names (``2026-01-31``), as history and retries record it."""
        start = parse_key(key, self.batch_size)
        return Window(start, step(start, self.batch_size), self.batch_size)


def parse_key(key: str, size: str) -> datetime:
    """The start of the window named ``key`` (ValueError when it is not one)."""
    form = {"hour": "%Y-%m-%dT%H", "day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}[size]
    return datetime.strptime(key, form).replace(tzinfo=timezone.utc)


def window_of_key(key: str) -> Window:
    """The window a key names, its size told by the key's form (2026, 2026-01, 2026-01-31,
    2026-01-31T05), as run_results and history keep it."""
    size = {4: "year", 7: "month", 10: "day", 13: "hour"}.get(len(key))
    if size is None:
        raise ValueError(f"{key!r} is not a window's key")
    start = parse_key(key, size)
    return Window(start, step(start, size), size)


def parse_moment(value: object) -> datetime:
    """A date or timestamp as YAML or a flag gives it (``2026-01-01``, ``2026-01-01 05:00``,
    a ``date``), aware: naive values are UTC, as dbt reads ``--event-time-start``."""
    from datetime import date

    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    else:
        moment = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    return _utc(moment)


@dataclass(frozen=True, order=True)
class Window:
    start: datetime
    end: datetime
    size: str

    @property
    def naive_utc(self) -> tuple[datetime, datetime]:
        """``(start, end)`` as naive UTC datetimes, as warehouses compare timestamps."""
        return (self.start.astimezone(timezone.utc).replace(tzinfo=None),
                self.end.astimezone(timezone.utc).replace(tzinfo=None))

    @property
    def key(self) -> str:
        """The window's name: 2026-01-31T05 (hour), 2026-01-31, 2026-01, 2026."""
        return self.start.strftime(
            {"hour": "%Y-%m-%dT%H", "day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}[self.size])


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None \
        else moment.astimezone(timezone.utc)


def floor(moment: datetime, size: str) -> datetime:
    """The start of the window of ``size`` holding ``moment``."""
    m = _utc(moment)
    if size == "hour":
        return m.replace(minute=0, second=0, microsecond=0)
    if size == "day":
        return m.replace(hour=0, minute=0, second=0, microsecond=0)
    if size == "month":
        return m.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if size == "year":
        return m.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    raise ValueError(f"batch_size must be one of {', '.join(SIZES)}, not {size!r}")


def step(start: datetime, size: str, n: int = 1) -> datetime:
    """``start`` (a window's start) moved by ``n`` windows, back when ``n`` < 0."""
    if size == "hour":
        return start + timedelta(hours=n)
    if size == "day":
        return start + timedelta(days=n)
    months = start.year * 12 + start.month - 1 + (n if size == "month" else 12 * n)
    return start.replace(year=months // 12, month=months % 12 + 1)


def covering(start: datetime, end: datetime, size: str) -> list[Window]:
    """The windows that cover ``[start, end)``, in order."""
    out = []
    at = floor(start, size)
    end = _utc(end)
    while at < end:
        after = step(at, size)
        out.append(Window(at, after, size))
        at = after
    return out


def planned(size: str, begin: datetime, lookback: int, now: datetime,
            last_done: datetime | None = None, event_start: datetime | None = None,
            event_end: datetime | None = None, full_refresh: bool = False) -> list[Window]:
    """The windows one run computes (``last_done``: the start of the latest window done)."""
    if event_start is not None or event_end is not None:
        first = event_start if event_start is not None else begin
        return covering(max(_utc(first), floor(begin, size)),
                        _utc(event_end) if event_end is not None else step(floor(now, size),
                                                                            size), size)
    if full_refresh or last_done is None:
        first = floor(begin, size)
    else:
        first = max(floor(begin, size), step(floor(last_done, size), size, 1 - lookback))
        first = min(first, floor(now, size))  # the current window is always computed
    return covering(first, step(floor(now, size), size), size)
