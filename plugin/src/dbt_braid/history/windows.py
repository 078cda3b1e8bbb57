"""What history says of partitioned assets' windows: the latest one done (where a plain run
goes on from), a run's result over its windows.
Rows carry their window's key in ``partition_key``; keys sort as their windows do (ISO
dates). Each window's state, stale ones included, is :mod:`dbt_braid.history.window_status`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from dbt_braid.history import store
from dbt_braid.history.records import SUCCESS, when


def done_windows(project: Any, warehouse: Any, uids: Iterable[str]) -> dict[str, str]:
    """unique_id -> the key of its latest successful window, on this target."""
    done: dict[str, str] = {}
    for row in store.node_rows(project, warehouse, uids,
                               "partition_key is not null and status = 'success'"):
        key = str(row["partition_key"])
        if key > done.get(row["unique_id"], ""):
            done[row["unique_id"]] = key
    return done


def last_run_status(uid: str, rows: Iterable[Mapping[str, Any]]) -> str | None:
    """A partitioned asset's result in its latest run, over that run's windows: success,
    error, or dbt's ``partial success``."""
    mine = [r for r in rows if r.get("unique_id") == uid and r.get("status") != "retried"]
    if not mine:
        return None
    last = max(mine, key=when)
    statuses = {str(r.get("status")) for r in mine if r.get("run_id") == last.get("run_id")}
    if not any(r.get("partition_key") for r in mine if r.get("run_id") == last.get("run_id")):
        return None
    ok = statuses & SUCCESS
    if ok and statuses - SUCCESS:
        return "partial success"
    return "success" if ok else str(last.get("status"))
