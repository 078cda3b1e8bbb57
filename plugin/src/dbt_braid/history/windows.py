"""What history says of partitioned assets' windows: the latest one done, and the state of
each (for ``braid status`` and the catalog's strip). Rows carry their window's key in
``partition_key``; keys sort as their windows do (ISO dates)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from dbt_braid.assets import PythonAsset
from dbt_braid.history import store
from dbt_braid.history.records import SUCCESS
from dbt_braid.partitions.windows import covering, floor, step


def done_windows(project: Any, warehouse: Any, uids: Iterable[str]) -> dict[str, str]:
    """unique_id -> the key of its latest successful window, on this target."""
    done: dict[str, str] = {}
    for row in store.node_rows(project, warehouse, uids,
                               "partition_key is not null and status = 'success'"):
        key = str(row["partition_key"])
        if key > done.get(row["unique_id"], ""):
            done[row["unique_id"]] = key
    return done


def window_states(asset: PythonAsset, rows: Iterable[Mapping[str, Any]], now: datetime
                  ) -> list[tuple[str, str]]:
    """(key, state) of each window from ``begin`` up to the one holding ``now``: ``done``
    (its latest attempt succeeded), ``failed`` (its latest attempt did not) or ``missing``
    (never run)."""
    spec = asset.partitions
    if spec is None:
        return []
    latest: dict[str, tuple[str, str]] = {}
    for row in rows:
        key = row.get("partition_key")
        if row.get("unique_id") != asset.unique_id or not key or row.get("status") in (
                "skipped", "no-op"):
            continue
        when = str(row.get("completed_at") or row.get("started_at") or "")
        if when >= latest.get(str(key), ("", ""))[0]:
            latest[str(key)] = (when, str(row.get("status")))
    windows = covering(spec.begin, step(floor(now, spec.batch_size), spec.batch_size),
                       spec.batch_size)
    states = []
    for window in windows:
        seen = latest.get(window.key)
        states.append((window.key, "missing" if seen is None
                       else "done" if seen[1] in SUCCESS else "failed"))
    return states


def runs_of(states: list[tuple[str, str]], state: str) -> list[str]:
    """The windows in ``state`` as ranges: ``2026-01-03``, ``2026-01-05..2026-01-09``."""
    out: list[str] = []
    start = prev = None
    for i, (key, st) in enumerate(states):
        if st == state and start is None:
            start = key
        if st == state:
            prev = key
        if start is not None and (st != state or i == len(states) - 1):
            out.append(start if start == prev else f"{start}..{prev}")
            start = None
    return out


def window_summary(states: list[tuple[str, str]]) -> dict[str, Any]:
    """How many windows are done, and which are failed or missing (as ranges)."""
    return {
        "total": len(states),
        "done": sum(1 for _, st in states if st == "done"),
        "failed": runs_of(states, "failed"),
        "missing": runs_of(states, "missing"),
    }


def summary_text(summary: Mapping[str, Any]) -> str:
    """``12/14 done; failed 2026-01-03; missing 2026-01-13..2026-01-14``."""
    parts = [f"{summary['done']}/{summary['total']} done"]
    for state in ("failed", "missing"):
        ranges = list(summary[state])
        if ranges:
            more = f" (+{len(ranges) - 3} more)" if len(ranges) > 3 else ""
            parts.append(f"{state} {', '.join(ranges[:3])}{more}")
    return "; ".join(parts)


def last_run_status(uid: str, rows: Iterable[Mapping[str, Any]]) -> str | None:
    """A partitioned asset's result in its latest run, over that run's windows: success,
    error, or dbt's ``partial success``."""
    mine = [r for r in rows if r.get("unique_id") == uid and r.get("status") != "retried"]
    if not mine:
        return None
    last = max(mine, key=lambda r: str(r.get("completed_at") or r.get("started_at") or ""))
    statuses = {str(r.get("status")) for r in mine if r.get("run_id") == last.get("run_id")}
    if not any(r.get("partition_key") for r in mine if r.get("run_id") == last.get("run_id")):
        return None
    ok = statuses & SUCCESS
    if ok and statuses - SUCCESS:
        return "partial success"
    return "success" if ok else str(last.get("status"))
