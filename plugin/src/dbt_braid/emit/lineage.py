"""Pure: ``lineage.json``'s payload, the unified graph of dbt nodes and Python assets.

Tests and hook operations are left out: they check or act on data, they do not make it.
Everything else the manifest knows (models, seeds, snapshots, sources, exposures) and every
Python asset is a node. The built-in plugin writes it after each run
(``builtins.lineage``); ``braid lineage`` prints it (``view.lineage``) and the catalog
leaves out the same nodes, so the three cannot disagree.
"""

from __future__ import annotations

from typing import Any

import networkx as nx

SKIPPED_TYPES = frozenset({"test", "unit_test", "operation"})


def lineage_payload(graph: nx.DiGraph) -> dict[str, Any]:
    keep = [u for u, d in graph.nodes(data=True) if d["resource_type"] not in SKIPPED_TYPES]
    kept = set(keep)
    nodes = []
    for uid in sorted(keep):
        data = graph.nodes[uid]
        node: dict[str, Any] = {
            "unique_id": uid,
            "name": data["name"],
            "resource_type": data["resource_type"],
            "package_name": data["package_name"],
        }
        if data.get("relation"):
            node["relation"] = data["relation"]
        if data.get("path"):
            node["path"] = data["path"]
        if data["resource_type"] == "python":
            node["declared_by"] = data["declared_by"]
            node["python_file"] = data["module_file"]
        if data.get("source_name"):
            node["source_name"] = data["source_name"]
        if data.get("tags"):
            node["tags"] = list(data["tags"])
        nodes.append(node)
    edges = [{"from": a, "to": b} for a, b in sorted(graph.edges) if a in kept and b in kept]
    return {"nodes": nodes, "edges": edges}
