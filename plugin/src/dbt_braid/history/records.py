"""Rows for the history tables, built from a finished run. Pure: no dbt, no database.

A node's *version* is when its latest successful materialization completed; a row records
its own code version (dbt's checksum, or the Python asset's code version) and
the versions of the inputs it read, so ``braid status`` can tell what changed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

import networkx as nx

from dbt_braid.execution.results import RunReport

#: resource types that leave something behind, so have a version and a freshness
MATERIALIZING = frozenset({"model", "seed", "snapshot", "python"})
SUCCESS = frozenset({"success", "pass"})


def sql_time(iso: str | None) -> str | None:
    """An ISO timestamp as naive UTC 'YYYY-MM-DD HH:MM:SS.ffffff' (what every warehouse casts)."""
    if not iso:
        return None
    moment = datetime.fromisoformat(iso)
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def latest_success(rows: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """unique_id -> completed_at of its latest successful materialization."""
    latest: dict[str, str] = {}
    for row in rows:
        done = row.get("completed_at")
        if row.get("status") in SUCCESS and done:
            done = str(done)
            if done > latest.get(row["unique_id"], ""):
                latest[row["unique_id"]] = done
    return latest


def has_version(data: Mapping[str, Any]) -> bool:
    """Whether a node leaves something behind (an ephemeral model is compiled into others)."""
    return data["resource_type"] in MATERIALIZING and data.get("materialized") != "ephemeral"


def materializing_parents(graph: nx.DiGraph, uid: str) -> list[str]:
    """The nearest upstream nodes that have versions, looking through tests and sources."""
    found: list[str] = []
    seen = set()
    stack = list(graph.predecessors(uid))
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if has_version(graph.nodes[node]):
            found.append(node)
        elif graph.nodes[node]["resource_type"] == "test":
            continue
        else:
            stack.extend(graph.predecessors(node))
    return sorted(found)


def history_rows(
    report: RunReport,
    status: str,
    selection: str,
    target_name: str,
    versions: Mapping[str, str],
    previous: Mapping[str, str],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(the run row, the node rows) for one braid run.

    ``previous``: each node's version before this run, from the history already written.
    """
    graph = report.graph
    run = {
        "run_id": report.run_id,
        "command": f"braid {report.command}",
        "selection": selection,
        "target_name": target_name,
        "started_at": sql_time(report.started_at),
        "completed_at": sql_time(datetime.now(timezone.utc).isoformat()),
        "status": status,
        "braid_version": versions.get("braid"),
        "dbt_version": versions.get("dbt"),
    }
    now_versions = dict(previous)
    nodes = []
    for result in report.results:
        # a skipped node never started: stamp it with the run's times so it sorts with its run
        done = sql_time(result.completed_at) or run["completed_at"]
        begun = sql_time(result.started_at) or run["started_at"]
        inputs = {}
        if result.unique_id in graph:
            inputs = {
                p: now_versions.get(p) for p in materializing_parents(graph, result.unique_id)
            }
        data = graph.nodes[result.unique_id] if result.unique_id in graph else {}
        nodes.append(
            {
                "run_id": report.run_id,
                "unique_id": result.unique_id,
                "name": result.name,
                "kind": result.resource_type,
                "status": result.status,
                "started_at": begun,
                "completed_at": done,
                "rows_written": result.rows_written,
                "message": (result.message or "")[:2000] or None,
                "code_version": data.get("checksum"),
                "input_versions": json.dumps(inputs, sort_keys=True) if inputs else None,
            }
        )
        if result.status in SUCCESS and done:
            now_versions[result.unique_id] = done
    return [run], nodes
