"""What the catalog page shows, as one JSON-ready mapping. Pure: no dbt, no database.

:mod:`dbt_braid.catalog.collect` gathers the inputs (each node's details from the manifest
and the declarations, columns from the warehouse, history rows, run rows, freshness); this
module shapes them: every node with its place in the graph, its neighbours, its health, its
latest materializations and metadata (and a partitioned asset's windows, each done, failed or
missing); every recent run with its nodes on a timeline. The page's script only draws what is
here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from dbt_braid.catalog.layout import layout

#: materializations kept per node on the page, and runs kept, newest first
HISTORY_PER_NODE = 30
RUNS_KEPT = 40
#: a partitioned asset's windows kept on the page (its strip), the newest
WINDOWS_KEPT = 400
FAILED = frozenset({"error", "fail", "partial success"})
#: the statuses a run can show; "running" and "abandoned" come from unfinished runs
RUN_STATES = ("running", "success", "error", "cancelled", "abandoned")


def health(status: Mapping[str, Any] | None) -> str:
    """``fresh``, ``stale``, ``failed``, ``never`` (never materialized) or ``none`` (a node
    with nothing of its own to build: a plain source or exposure)."""
    if status is None:
        return "none"
    if status.get("last_status") in FAILED:
        return "failed"
    if not status.get("last_run"):
        return "never" if status.get("state") == "stale" else "none"
    return "fresh" if status.get("state") == "fresh" else (
        "stale" if status.get("state") == "stale" else "none")


def seconds_between(start: Any, end: Any) -> float | None:
    """Seconds from ``start`` to ``end`` (history's timestamp strings), None if unknown."""
    try:
        a = datetime.fromisoformat(str(start))
        b = datetime.fromisoformat(str(end))
    except (TypeError, ValueError):
        return None
    return round((b - a).total_seconds(), 3)


def metadata_of(row: Mapping[str, Any]) -> dict[str, Any]:
    text = row.get("metadata")
    if not text:
        return {}
    try:
        value = json.loads(str(text))
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def history_item(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "run_id": row.get("run_id"),
        "status": row.get("status"),
        "started_at": _text(row.get("started_at")),
        "completed_at": _text(row.get("completed_at")),
        "seconds": seconds_between(row.get("started_at"), row.get("completed_at")),
        "rows": _number(row.get("rows_written")),
        "message": row.get("message"),
        "attempt": _number(row.get("attempt")),
        "metadata": metadata_of(row),
    }


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _number(value: Any) -> int | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    return int(value)


def windows_entry(states: Sequence[Sequence[str]], summary: Mapping[str, Any]) -> dict[str, Any]:
    """A partitioned asset's strip: its newest :data:`WINDOWS_KEPT` windows as ``[key,
    state]`` (oldest first, as ``history.window_status`` judges them: ``done``, ``stale``,
    ``failed`` or ``missing``), how many older ones are left out, and the summary of them all
    (``history.window_status.summary``: total, done, stale, failed and missing ranges)."""
    kept = list(states)[-WINDOWS_KEPT:]
    return {
        "states": [[str(key), str(state)] for key, state in kept],
        "left_out": len(states) - len(kept),
        "summary": dict(summary),
    }


def runs_of(runs: Sequence[Mapping[str, Any]], rows: Sequence[Mapping[str, Any]],
            names: Mapping[str, str]) -> list[dict[str, Any]]:
    """The newest runs, each with its nodes in the order they started."""
    by_run: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        by_run.setdefault(str(row.get("run_id")), []).append(row)
    newest = sorted(runs, key=lambda r: str(r.get("started_at") or ""), reverse=True)
    out = []
    for run in newest[:RUNS_KEPT]:
        run_id = str(run.get("run_id"))
        # in the order they started; the skipped (which never started) last
        nodes = sorted(by_run.get(run_id, []), key=lambda r: (
            r.get("status") == "skipped", str(r.get("started_at") or ""),
            str(r.get("unique_id"))))
        out.append({
            "run_id": run_id,
            "command": run.get("command"),
            "selection": run.get("selection") or "",
            "status": run.get("status"),
            "target": run.get("target_name"),
            "started_at": _text(run.get("started_at")),
            "completed_at": _text(run.get("completed_at")),
            "seconds": seconds_between(run.get("started_at"), run.get("completed_at")),
            "retry_of": run.get("retry_of") or None,
            "schedule": run.get("schedule") or None,
            "nodes": [{
                "unique_id": r.get("unique_id"),
                "name": names.get(str(r.get("unique_id")), r.get("name")),
                "kind": r.get("kind"),
                "status": r.get("status"),
                "started_at": _text(r.get("started_at")),
                "completed_at": _text(r.get("completed_at")),
                "invocation": _number(r.get("invocation")),
                "attempt": _number(r.get("attempt")),
                "rows": _number(r.get("rows_written")),
                "message": r.get("message"),
            } for r in nodes],
        })
    return out


def catalog_data(
    *,
    title: str,
    nodes: Sequence[Mapping[str, Any]],
    edges: Iterable[tuple[str, str]],
    statuses: Mapping[str, Mapping[str, Any]] | None,
    history: Sequence[Mapping[str, Any]] = (),
    runs: Sequence[Mapping[str, Any]] = (),
    generated_at: str = "",
    schedules: Sequence[Mapping[str, Any]] = (),
    windows: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The page's data. ``nodes``: each node's details (``unique_id``, ``name``,
    ``resource_type``, ``package_name`` and whatever else is known: ``description``,
    ``columns``, ``raw_code``, ``python_source``, ...); ``statuses``: freshness by
    unique_id (None: no history is kept); ``history``/``runs``: history table rows;
    ``schedules``: braid.yml's schedules as ``braid schedules`` shows them; ``windows``:
    each partitioned asset's windows by unique_id, ``{"states": [(key, state), ...],
    "summary": {...}}`` (see :func:`windows_entry`; other nodes get no ``windows``)."""
    ids = {n["unique_id"] for n in nodes}
    edge_list = sorted({(a, b) for a, b in edges if a in ids and b in ids and a != b})
    places = layout(nodes, edge_list)
    up: dict[str, list[str]] = {u: [] for u in ids}
    down: dict[str, list[str]] = {u: [] for u in ids}
    for a, b in edge_list:
        up[b].append(a)
        down[a].append(b)
    names = {n["unique_id"]: n["name"] for n in nodes}
    rows_of: dict[str, list[Mapping[str, Any]]] = {}
    for row in history:
        rows_of.setdefault(str(row.get("unique_id")), []).append(row)
    out_nodes = []
    for node in sorted(nodes, key=lambda n: n["unique_id"]):
        uid = node["unique_id"]
        status = statuses.get(uid) if statuses is not None else None
        recent = sorted(rows_of.get(uid, []), key=lambda r: (str(r.get("completed_at") or ""),
                                                           _number(r.get("attempt")) or 0),
                        reverse=True)[:HISTORY_PER_NODE]
        column, line = places[uid]
        strip = (windows or {}).get(uid)
        out_nodes.append({
            **{k: v for k, v in node.items() if v not in (None, "", [], {})},
            "col": column,
            "row": line,
            "upstream": sorted(up[uid], key=lambda u: names[u]),
            "downstream": sorted(down[uid], key=lambda u: names[u]),
            "health": health(status),
            "freshness": dict(status) if status is not None else None,
            "history": [history_item(r) for r in recent],
            **({"windows": windows_entry(strip["states"], strip["summary"])}
               if strip is not None else {}),
        })
    return {
        "title": title,
        "generated_at": generated_at,
        "has_history": statuses is not None,
        "nodes": out_nodes,
        "edges": [list(e) for e in edge_list],
        "runs": runs_of(runs, history, names),
        "schedules": [dict(s) for s in schedules],
    }
