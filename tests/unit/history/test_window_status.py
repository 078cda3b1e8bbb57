"""Pure tests of a partitioned asset's window freshness (history.window_status through
history.status.node_statuses) and of the vars an asset's code reads (declare.code_version):
no dbt, no database."""

from __future__ import annotations

import ast
from datetime import datetime, timezone

import networkx as nx
from dbt_braid.core.windows import PartitionSpec
from dbt_braid.declare.code_version import vars_read, with_vars
from dbt_braid.history.status import node_statuses
from dbt_braid.history.window_status import due, due_windows
from graphs import add_dbt, add_py

NOW = datetime(2026, 1, 5, 12, tzinfo=timezone.utc)
DAILY = PartitionSpec("day_at", "day", datetime(2026, 1, 1, tzinfo=timezone.utc), lookback=1)


def row(uid: str, at: str, status: str = "success", key: str | None = None,
        version: str = "v1") -> dict:
    return {"unique_id": uid, "status": status, "started_at": at, "completed_at": at,
            "partition_key": key, "code_version": version, "message": None}


def graph_with(*, daily_parent: bool = False) -> tuple[nx.DiGraph, str, str]:
    """orders -> daily (partitioned), or daily_up (partitioned) -> daily."""
    graph = nx.DiGraph()
    up = add_py(graph, "daily_up") if daily_parent else add_dbt(graph, "orders")
    asset = add_py(graph, "daily")
    for uid in (up, asset):
        graph.nodes[uid]["checksum"] = "v1"
    graph.add_edge(up, asset)
    return graph, up, asset


def windows_run(uid: str, at: str, keys: list[str], version: str = "v1") -> list[dict]:
    return [row(uid, at, key=k, version=version) for k in keys]


KEYS = ["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04", "2026-01-05"]


def test_an_upstream_rebuilt_after_old_windows_makes_exactly_those_stale() -> None:
    graph, orders, daily = graph_with()
    rows = [row(orders, "2026-01-05 01:00:00"), *windows_run(daily, "2026-01-05 02:00:00", KEYS),
            # the upstream changes, and a plain run recomputes the newest window only
            row(orders, "2026-01-05 10:00:00"),
            *windows_run(daily, "2026-01-05 11:00:00", KEYS[-1:])]
    status = node_statuses(graph, rows, now=NOW, partitions={daily: DAILY})[daily]
    assert status.state == "stale"
    assert status.windows == {"total": 5, "done": 1, "stale": ["2026-01-01..2026-01-04"],
                              "failed": [], "missing": []}
    assert status.reason == ("4 of 5 windows stale (2026-01-01..2026-01-04): upstream orders "
                             "was materialized after the window was computed")
    assert due(status.window_states) == KEYS[:4]
    # a run selected by status: computes those for the asset, and leaves the model as it is
    assert due_windows([orders, daily], {daily: status}) == {daily: KEYS[:4]}
    # recomputing exactly those makes it fresh
    rows += windows_run(daily, "2026-01-05 12:00:00", KEYS[:4])
    status = node_statuses(graph, rows, now=NOW, partitions={daily: DAILY})[daily]
    assert (status.state, status.windows["done"], due(status.window_states)) == ("fresh", 5, [])


def test_a_stale_upstream_makes_every_window_stale_and_missing_ones_are_not() -> None:
    graph, orders, daily = graph_with()
    graph.nodes[orders]["checksum"] = "v2"  # its SQL changed since it was built
    rows = [row(orders, "2026-01-05 01:00:00"),
            *windows_run(daily, "2026-01-05 02:00:00", KEYS[:3])]
    statuses = node_statuses(graph, rows, now=NOW, partitions={daily: DAILY})
    assert statuses[orders].state == "stale"
    status = statuses[daily]
    assert status.windows == {"total": 5, "done": 0, "stale": ["2026-01-01..2026-01-03"],
                              "failed": [], "missing": ["2026-01-04..2026-01-05"]}
    assert "upstream orders is stale" in status.reason
    # a run of what is stale computes those and the missing ones (nothing fresh again)
    assert due(status.window_states) == KEYS


def test_code_change_and_failed_windows() -> None:
    graph, orders, daily = graph_with()
    rows = [row(orders, "2026-01-05 01:00:00"),
            *windows_run(daily, "2026-01-05 02:00:00", KEYS[:2], version="v0"),
            *windows_run(daily, "2026-01-05 02:00:00", KEYS[2:]),
            row(daily, "2026-01-05 03:00:00", status="error", key="2026-01-04")]
    status = node_statuses(graph, rows, now=NOW, partitions={daily: DAILY})[daily]
    assert status.windows == {"total": 5, "done": 2, "stale": ["2026-01-01..2026-01-02"],
                              "failed": ["2026-01-04"], "missing": []}
    assert status.reason.startswith("window(s) failed: 2026-01-04")
    assert due(status.window_states) == ["2026-01-01", "2026-01-02", "2026-01-04"]
    by_key = {w.key: w for w in status.window_states}
    assert by_key["2026-01-01"].reason == ("its Python source or params changed since the "
                                           "window was computed")


def test_a_partitioned_upstream_counts_by_its_overlapping_windows() -> None:
    graph, up, daily = graph_with(daily_parent=True)
    rows = [*windows_run(up, "2026-01-05 01:00:00", KEYS),
            *windows_run(daily, "2026-01-05 02:00:00", KEYS),
            # the upstream recomputes one day: only that day of the asset is stale
            *windows_run(up, "2026-01-05 03:00:00", ["2026-01-02"])]
    statuses = node_statuses(graph, rows, now=NOW, partitions={up: DAILY, daily: DAILY})
    assert statuses[up].state == "fresh"
    status = statuses[daily]
    assert due(status.window_states) == ["2026-01-02"]
    assert status.reason.endswith("upstream daily_up's window 2026-01-02 was computed after "
                                  "this window")
    # a monthly asset over the daily one: its one window overlaps the recomputed day
    graph.add_node("python.proj.monthly", kind="python", resource_type="python", name="monthly",
                   package_name="proj", fqn=("proj", "monthly"), checksum="v1")
    graph.add_edge(up, "python.proj.monthly")
    monthly = PartitionSpec("day_at", "month", DAILY.begin)
    rows += [row("python.proj.monthly", "2026-01-05 02:30:00", key="2026-01")]
    status = node_statuses(graph, rows, now=NOW, partitions={up: DAILY, daily: DAILY,
                                                             "python.proj.monthly": monthly}
                           )["python.proj.monthly"]
    assert (status.state, due(status.window_states)) == ("stale", ["2026-01"])


def test_status_output_keeps_the_window_states_out_of_its_dict() -> None:
    graph, orders, daily = graph_with()
    rows = [row(orders, "2026-01-05 01:00:00"), *windows_run(daily, "2026-01-05 02:00:00", KEYS)]
    status = node_statuses(graph, rows, now=NOW, partitions={daily: DAILY})[daily]
    assert len(status.window_states) == 5
    assert "window_states" not in status.to_dict()
    assert status.to_dict()["windows"]["done"] == 5


def reads(code: str) -> frozenset[str] | None:
    return vars_read([ast.parse(code)])


def test_the_vars_code_reads_are_found_or_all_count() -> None:
    assert reads("def f(context):\n    return 1\n") == frozenset()
    assert reads("def f(context):\n    a = context.vars['horizon']\n"
                 "    b = context.vars.get('scale', 2)\n"
                 "    return 'mode' in context.vars\n") == {"horizon", "scale", "mode"}
    # a computed key, or the whole mapping: any var may matter
    assert reads("def f(context, k):\n    return context.vars[k]\n") is None
    assert reads("def f(context):\n    return dict(context.vars)\n") is None


def test_var_values_change_the_version_only_when_read() -> None:
    assert with_vars("v1", frozenset(), {"a": 1}) == "v1"
    one = with_vars("v1", frozenset({"a"}), {"a": 1, "b": 1})
    assert one == with_vars("v1", frozenset({"a"}), {"a": 1, "b": 2}) != "v1"
    assert one != with_vars("v1", frozenset({"a"}), {"a": 2, "b": 1})
    assert one != with_vars("v1", frozenset({"a"}), {})
    assert with_vars("v1", None, {"b": 1}) != with_vars("v1", None, {"b": 2})
