"""Hand-built unified graphs for the pure tests (planning, selection), and a generated catalog
payload (the catalog's layout, model and Chromium tests): no dbt needed."""

from __future__ import annotations

import random
from typing import Any

import networkx as nx


def add_dbt(
    graph: nx.DiGraph,
    name: str,
    resource_type: str = "model",
    package: str = "proj",
    folder: tuple[str, ...] = (),
    uid: str | None = None,
) -> str:
    """Add a dbt node with the attributes :func:`dbt_braid.graph.unified.build_graph` gives it."""
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


def synthetic_payload(n: int, seed: int = 3) -> dict[str, Any]:
    """``n`` nodes in eight layers, each reading one to three nodes of earlier layers."""
    rng = random.Random(seed)
    kinds = ["model"] * 6 + ["python", "snapshot"]
    nodes, edges, layers = [], [], [[] for _ in range(8)]
    for i in range(n):
        layer = 0 if i < 30 else rng.randrange(1, 8)
        kind = ("seed" if i % 2 else "source") if layer == 0 else rng.choice(kinds)
        uid = f"{'python.gen' if kind == 'python' else kind + '.gen'}.node_{i:03d}"
        nodes.append({"unique_id": uid, "name": f"node_{i:03d}", "resource_type": kind,
                      "package_name": "gen", "relation": f"db.main.node_{i:03d}"})
        layers[layer].append(uid)
    for layer in range(1, 8):
        earlier = [u for lay in layers[:layer] for u in lay]
        for uid in layers[layer]:
            for parent in rng.sample(earlier, rng.randint(1, min(3, len(earlier)))):
                edges.append({"from": parent, "to": uid})
    nodes.sort(key=lambda nd: nd["unique_id"])
    return {"nodes": nodes, "edges": sorted(edges, key=lambda e: (e["from"], e["to"]))}
