"""Rows for the history tables, built from a finished run. Pure: no dbt, no database.

A node's *version* is when its latest successful materialization completed; a row records
its own code version (dbt's checksum, or the Python asset's code version) and
the versions of the inputs it read, so ``braid status`` can tell what changed. A run's row
is made when it starts and again when it ends; a node's as it finishes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

import networkx as nx

from dbt_braid.core.results import NodeResult

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


def when(row: Mapping[str, Any]) -> str:
    """When a history row happened, as its rows sort: completed, else started."""
    return str(row.get("completed_at") or row.get("started_at") or "")


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


def run_row(
    run_id: str,
    command: str,
    selection: str,
    target_name: str,
    started_at: str,
    status: str,
    versions: Mapping[str, str],
    completed_at: str | None = None,
    retry_of: str | None = None,
    schedule: str | None = None,
) -> dict[str, Any]:
    """The run's row: written with status ``running`` when it starts, completed at its end."""
    return {
        "run_id": run_id,
        "command": command,
        "selection": selection,
        "target_name": target_name,
        "started_at": sql_time(started_at),
        "completed_at": sql_time(completed_at),
        "status": status,
        "braid_version": versions.get("braid"),
        "dbt_version": versions.get("dbt"),
        "retry_of": retry_of,
        "schedule": schedule,
    }


class NodeRows:
    """Node rows for one run, made as nodes finish.

    Each row records the versions of the inputs its node read: their latest successful
    materialization before this node finished, this run's included.
    """

    def __init__(self, run_id: str, graph: nx.DiGraph, run_started: str,
                 previous: Mapping[str, str]) -> None:
        self.run_id = run_id
        self.graph = graph
        self.run_started = sql_time(run_started)
        self.versions = dict(previous)

    def row(self, result: NodeResult, run_completed: str | None = None) -> dict[str, Any]:
        # a skipped node never started: stamp it with the run's times so it sorts with its run
        done = sql_time(result.completed_at) or sql_time(run_completed) or self.run_started
        begun = sql_time(result.started_at) or self.run_started
        graph = self.graph
        inputs = {}
        if result.unique_id in graph:
            inputs = {p: self.versions.get(p)
                      for p in materializing_parents(graph, result.unique_id)}
        data = graph.nodes[result.unique_id] if result.unique_id in graph else {}
        if result.status in SUCCESS and done:
            self.versions[result.unique_id] = done
        return {
            "run_id": self.run_id,
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
            "attempt": result.attempt,
            "invocation": result.invocation,
            "metadata": json.dumps(result.metadata, sort_keys=True) if result.metadata else None,
            "partition_key": result.partition,
        }

    def rows(self, result: NodeResult, run_completed: str | None = None
             ) -> list[dict[str, Any]]:
        """The rows of a node's failed earlier attempts (retries), then its result's; a
        partitioned asset's are its windows' (each window is a materialization)."""
        return [self.row(one, run_completed) for one in attempts_of(result)]


def attempts_of(result: NodeResult) -> list[NodeResult]:
    """Every result history keeps a row of: each window's (or the node's) retried attempts,
    then the window's (or the node's) own result."""
    parts = result.windows or [result]
    return [one for part in parts for one in [*part.attempts, part]]
