"""The unified graph: dbt's nodes and the Python assets in one networkx DiGraph.

A source table or exposure that declares a Python asset is not a node of its own: the asset
takes its place and its edges (SPEC §5), so ``source:forecasting.predicted_orders`` and the
asset are one node. Node attributes are plain values (no dbt objects), so selection,
planning and lineage can be tested on graphs built by hand.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import networkx as nx

from dbt_braid.assets import PythonAsset
from dbt_braid.errors import BraidUserError, Problem

#: Graph node kinds: who runs it.
DBT = "dbt"
PYTHON = "python"


def _value(resource_type: Any) -> str:
    return str(getattr(resource_type, "value", resource_type))


def _relation(node: Any) -> str | None:
    identifier = getattr(node, "identifier", None) or getattr(node, "alias", None)
    schema = getattr(node, "schema", None)
    if not identifier or not schema:
        return None
    database = getattr(node, "database", None)
    return ".".join(p for p in (database, schema, identifier) if p)


def build_graph(manifest: Any, assets: Iterable[PythonAsset]) -> nx.DiGraph:
    """One graph of the manifest's nodes, sources and exposures and the Python assets."""
    assets = list(assets)
    replaced = {a.declared_by: a.unique_id for a in assets}
    graph = nx.DiGraph()

    def add(uid: str, node: Any, **extra: Any) -> None:
        graph.add_node(
            uid,
            kind=DBT,
            resource_type=_value(node.resource_type),
            name=node.name,
            package_name=node.package_name,
            fqn=tuple(getattr(node, "fqn", ()) or ()),
            path=getattr(node, "original_file_path", None),
            tags=tuple(getattr(node, "tags", ()) or ()),
            relation=_relation(node),
            **extra,
        )

    for uid, node in manifest.nodes.items():
        add(uid, node)
    for uid, src in manifest.sources.items():
        if uid not in replaced:
            add(uid, src, source_name=src.source_name)
    for uid, exp in manifest.exposures.items():
        if uid not in replaced:
            add(uid, exp)
    for asset in assets:
        graph.add_node(
            asset.unique_id,
            kind=PYTHON,
            resource_type="python",
            name=asset.name,
            package_name=asset.package_name,
            fqn=(asset.package_name, asset.name),
            path=asset.yaml_file,
            module_file=asset.module_file,
            tags=asset.tags,
            relation=str(asset.relation) if asset.relation else None,
            declared_by=asset.declared_by,
            source_name=asset.source_name,
        )
    for table in (manifest.nodes, manifest.exposures):
        for uid, node in table.items():
            if uid in replaced:
                continue
            for parent in getattr(node.depends_on, "nodes", ()):
                parent = replaced.get(parent, parent)
                if parent in graph:
                    graph.add_edge(parent, uid)
    for asset in assets:
        for upstream in asset.depends_on:
            graph.add_edge(upstream, asset.unique_id)
    return graph


def label(graph: nx.DiGraph, uid: str) -> str:
    """A node as users name it: ``python:predict`` or ``model fct_orders``."""
    data = graph.nodes[uid]
    if data["kind"] == PYTHON:
        return f"python:{data['name']}"
    return f"{data['resource_type']} {data['name']}"


def check_acyclic(graph: nx.DiGraph, assets: Iterable[PythonAsset]) -> None:
    """Raise one problem per dependency cycle, printing the cycle."""
    by_id = {a.unique_id: a for a in assets}
    problems = []
    for component in nx.strongly_connected_components(graph):
        if len(component) == 1:
            (only,) = component
            if not graph.has_edge(only, only):
                continue
        sub = graph.subgraph(component)
        cycle = [u for u, _ in nx.find_cycle(sub)]
        in_cycle = [by_id[u] for u in cycle if u in by_id]
        start = cycle.index(in_cycle[0].unique_id) if in_cycle else 0
        cycle = cycle[start:] + cycle[:start]
        shown = " -> ".join(label(graph, u) for u in [*cycle, cycle[0]])
        asset = in_cycle[0] if in_cycle else None
        problems.append(
            Problem(
                asset.yaml_file if asset else "",
                asset.label if asset else "",
                "meta.braid.depends_on",
                f"dependency cycle: {shown}; remove one of these dependencies",
            )
        )
    if problems:
        raise BraidUserError(sorted(problems))
