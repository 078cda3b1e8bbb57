"""Freshness policies: how old a node may get before it is overdue. Pure.

The policies are dbt's own words, read where dbt keeps them: a model's
``freshness.build_after`` (dbt 1.10), a source table's ``freshness.warn_after`` /
``error_after`` (for the Python asset that writes it), and for an exposure asset, where dbt
has no place for one, ``meta.braid.freshness.build_after``. A node is overdue when its last
successful materialization is older than the policy allows (or it has none).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class Policy:
    """``count`` ``period``s, as dbt writes them, and which setting said so."""

    count: int
    period: str
    setting: str  # "build_after", "warn_after" or "error_after"

    @property
    def seconds(self) -> float:
        return float(self.count * SECONDS[self.period])

    def describe(self) -> str:
        return f"{self.setting} {self.count} {self.period}{'' if self.count == 1 else 's'}"


def policy_of(setting: str, value: Any) -> Policy | None:
    """A policy from dbt's ``{count, period}`` (an object or a mapping); None when unset."""
    if value is None:
        return None
    get = value.get if isinstance(value, Mapping) else lambda k: getattr(value, k, None)
    count, period = get("count"), get("period")
    period = getattr(period, "value", period)
    if not count or str(period) not in SECONDS:
        return None
    return Policy(int(count), str(period), setting)


def _age(last_success: str | None, now: datetime) -> float | None:
    if not last_success:
        return None
    moment = datetime.fromisoformat(str(last_success))
    if moment.tzinfo is None:  # history keeps naive UTC
        moment = moment.replace(tzinfo=timezone.utc)
    return (now - moment).total_seconds()


def _ago(seconds: float) -> str:
    for name, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = int(seconds // size)
            return f"{n} {name}{'' if n == 1 else 's'} ago"
    return "just now"


def overdue(policies: list[Policy], last_success: str | None, now: datetime) -> str | None:
    """The broken policy and why (the strictest one broken), or None when all are kept."""
    age = _age(last_success, now)
    broken = [p for p in policies if age is None or age > p.seconds]
    if not broken:
        return None
    worst = min(broken, key=lambda p: p.seconds)
    when = "never materialized" if age is None else f"last materialized {_ago(age)}"
    return f"{worst.describe()}: {when}"
