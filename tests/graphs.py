"""Hand-built unified graphs for the pure tests (planning, selection): no dbt needed."""

from __future__ import annotations

import networkx as nx


def add_dbt(
    graph: nx.DiGraph,
    name: str,
    resource_type: str = "model",
    package: str = "proj",
    folder: tuple[str, ...] = (),
    uid: str | None = None,
) -> str:
    """Add a dbt node with the attributes :func:`dbt_braid.graph.build_graph` gives it."""
    uid = uid or f"{resource_type}.{package}.{name}"
    graph.add_node(
        uid,
        kind="dbt",
        resource_type=resource_type,
        name=name,
        package_name=package,
        fqn=(package, *folder, name),
    )
    return uid


def add_py(graph: nx.DiGraph, name: str, package: str = "proj") -> str:
    """Add a Python asset node."""
    uid = f"python.{package}.{name}"
    graph.add_node(
        uid,
        kind="python",
        resource_type="python",
        name=name,
        package_name=package,
        fqn=(package, name),
    )
    return uid
