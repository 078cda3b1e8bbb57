"""``timeout`` and ``retries`` of ``meta.braid``, from YAML values into seconds and counts.

The JSON Schema has checked their shapes; what is left is the arithmetic: ``10m`` is 600
seconds, and a timeout must be more than nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dbt_braid.core.assets import RetryPolicy
from dbt_braid.core.windows import PartitionSpec, parse_moment

UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0}


def seconds(value: Any) -> float:
    """A duration as the schema allows it (90, "90s", "10m", "1.5h") in seconds."""
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    unit = UNITS.get(text[-1:])
    return float(text[:-1].strip()) * unit if unit else float(text)


def timeout_of(meta: Mapping[str, Any]) -> tuple[float | None, str | None]:
    """(seconds or None, a problem message or None)."""
    if "timeout" not in meta:
        return None, None
    limit = seconds(meta["timeout"])
    if limit <= 0:
        return None, "must be more than 0, e.g. timeout: 10m"
    return limit, None


def retries_of(meta: Mapping[str, Any]) -> RetryPolicy:
    value = meta.get("retries")
    if value is None:
        return RetryPolicy()
    if isinstance(value, int):
        return RetryPolicy(count=value)
    return RetryPolicy(count=int(value["count"]), delay=seconds(value.get("delay", 0)),
                       backoff=float(value.get("backoff", 1)))


def shown(limit: float) -> str:
    """Seconds the way a user wrote them: 600 as 10m, 90 as 90s."""
    for unit, size in (("h", 3600), ("m", 60)):
        if limit >= size and limit % size == 0:
            return f"{int(limit // size)}{unit}"
    return f"{limit:g}s"


def partitions_of(meta: Mapping[str, Any]) -> tuple[PartitionSpec | None, str | None]:
    """(the asset's windows, or None when it is not partitioned; a problem message or None).
    The schema has checked the keys; ``begin`` must still be a date or a timestamp."""
    value = meta.get("partitions")
    if not isinstance(value, Mapping):
        return None, None
    try:
        begin = parse_moment(value["begin"])
    except ValueError:
        return None, (f"begin: {str(value['begin'])!r} is not a date or a timestamp; write "
                      "e.g. begin: \"2026-01-01\"")
    return PartitionSpec(str(value["event_time"]), str(value["batch_size"]), begin,
                         int(value.get("lookback", 1))), None
