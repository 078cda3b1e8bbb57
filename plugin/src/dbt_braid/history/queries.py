"""What a command asks of history before (or instead of) running: the recorded rows, the
runs, each node's freshness policies and its fresh/stale status.

Each query opens the target's IO managers for itself (:func:`dbt_braid.io.base.opened`) and
closes them before it returns; the judging is :mod:`.status`'s and :mod:`.window_status`'s.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import networkx as nx

from dbt_braid.core.assets import PythonAsset
from dbt_braid.dbtcore.project import DbtProject
from dbt_braid.execution.run_lock import is_free
from dbt_braid.history import store
from dbt_braid.history.overdue import Policy, policy_of
from dbt_braid.history.status import NodeStatus, node_statuses
from dbt_braid.history.windows import last_run_status
from dbt_braid.io.base import IORegistry, opened
from dbt_braid.schedules.clock import now


def read_history(project: DbtProject, registry: IORegistry) -> list[dict[str, Any]]:
    """Every node materialization recorded for this project's target, oldest first."""
    with opened(registry, project.io_env()) as io:
        return store.read(project, io.get("table"))


def read_runs(project: DbtProject, registry: IORegistry) -> list[dict[str, Any]]:
    """The runs recorded for this target; one still ``running`` while nobody holds the
    target's run lock was killed, and reads as ``abandoned``."""
    with opened(registry, project.io_env()) as io:
        runs = store.read(project, io.get("table"), store.RUNS)
    if any(r.get("status") == "running" for r in runs) and is_free(project):
        for run in runs:
            if run.get("status") == "running":
                run["status"] = "abandoned"
    return runs


def policies(
    project: DbtProject, graph: nx.DiGraph, assets: Mapping[str, PythonAsset]
) -> dict[str, list[Policy]]:
    """Each node's freshness policies, where dbt keeps them: a model's
    ``freshness.build_after``, a Python asset's source table's ``warn_after``/``error_after``
    and its own ``meta.braid.freshness.build_after``."""
    manifest = project.manifest
    found: dict[str, list[Policy]] = {}
    for uid, data in graph.nodes(data=True):
        policy: list[Policy | None] = []
        if data["resource_type"] == "model" and uid in manifest.nodes:
            fresh = getattr(manifest.nodes[uid].config, "freshness", None)
            policy.append(policy_of("build_after", getattr(fresh, "build_after", None)))
        asset = assets.get(uid)
        if asset is not None:
            source = manifest.sources.get(asset.declared_by)
            fresh = getattr(source, "freshness", None)
            for setting in ("warn_after", "error_after"):
                policy.append(policy_of(setting, getattr(fresh, setting, None)))
            policy.append(policy_of("build_after", asset.freshness.get("build_after")))
        kept = [p for p in policy if p is not None]
        if kept:
            found[uid] = kept
    return found


def statuses(
    project: DbtProject, graph: nx.DiGraph, assets: Mapping[str, PythonAsset],
    rows: list[dict[str, Any]],
) -> dict[str, NodeStatus]:
    """Fresh or stale, and why, for every materializing node (a partitioned asset's by its
    windows); overdue, and which policy it breaks, where one applies (at the schedules'
    clock, ``BRAID_NOW`` included)."""
    partitioned = {uid: a.partitions for uid, a in assets.items() if a.partitions is not None}
    found = node_statuses(graph, rows, policies=policies(project, graph, assets), now=now(),
                          partitions=partitioned)
    for uid in partitioned:
        last = last_run_status(uid, rows) if uid in found else None
        if last:  # the run's result over its windows, as run_results said it
            found[uid] = dataclasses.replace(found[uid], last_status=last)
    return found
