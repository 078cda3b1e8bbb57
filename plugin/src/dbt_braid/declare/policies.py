"""``timeout`` and ``retries`` of ``meta.braid``, from YAML values into seconds and counts.

The JSON Schema has checked their shapes; what is left is the arithmetic: ``10m`` is 600
seconds, and a timeout must be more than nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dbt_braid.assets import RetryPolicy

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
