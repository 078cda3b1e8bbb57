"""The unified graph: dbt's nodes and the Python assets in one networkx DiGraph.

A source table or exposure that declares a Python asset is not a node of its own: the asset
takes its place and its edges (SPEC §5), so ``source:forecasting.predicted_orders`` and the
asset are one node. Node attributes are plain values (no dbt objects), so planning and
lineage can be tested on graphs built by hand. The edges between dbt nodes are dbt's own
(its Linker's graph, passed in), so selection agrees with dbt's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from dbt_braid.core.assets import PythonAsset
from dbt_braid.core.errors import BraidUserError, Problem
from dbt_braid.dbtcore.versions import GRAPH_COLLECTIONS, graph_collection

#: Graph node kinds: who runs it.
DBT = "dbt"
PYTHON = "python"
#: what ``dbt test`` runs (its ``--resource-type`` chooses among these)
TEST_TYPES = frozenset({"test", "unit_test"})


def _value(resource_type: Any) -> str:
    return str(getattr(resource_type, "value", resource_type))


def _relation(node: Any) -> str | None:
    identifier = getattr(node, "identifier", None) or getattr(node, "alias", None)
    schema = getattr(node, "schema", None)
    if not identifier or not schema:
        return None
    database = getattr(node, "database", None)
    return ".".join(p for p in (database, schema, identifier) if p)


@dataclass
class UnifiedGraph:
    """The unified graph in two namings.

    ``graph`` names a Python asset by its own unique_id (``python.pkg.name``) and carries the
    node attributes; planning, execution and lineage use it. ``dbt_view`` has the same edges
    but keeps the declaring source's or exposure's unique_id, so dbt's own selector methods
    (which look every node up in the manifest) can run over it.
    """

    graph: nx.DiGraph
    dbt_view: nx.DiGraph
    to_braid: dict[str, str] = field(default_factory=dict)
    to_dbt: dict[str, str] = field(default_factory=dict)

    def braid_ids(self, dbt_ids: Iterable[str]) -> set[str]:
        return {self.to_braid.get(u, u) for u in dbt_ids}


def _attributes(uid: str, node: Any) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        "kind": DBT,
        "resource_type": _value(node.resource_type),
        "name": node.name,
        "package_name": node.package_name,
        "fqn": tuple(getattr(node, "fqn", ()) or ()),
        "path": getattr(node, "original_file_path", None),
        "tags": tuple(getattr(node, "tags", ()) or ()),
        "relation": _relation(node) if uid.split(".", 1)[0] in RELATION_TYPES else None,
    }
    checksum = getattr(getattr(node, "checksum", None), "checksum", None)
    if checksum:
        attrs["checksum"] = checksum
    materialized = getattr(getattr(node, "config", None), "materialized", None)
    if materialized:
        attrs["materialized"] = materialized
    if attrs["resource_type"] == "source":
        attrs["source_name"] = node.source_name
    return attrs


#: resource types whose database.schema.identifier is a table or view
RELATION_TYPES = frozenset({"model", "seed", "snapshot", "source"})


def build_graph(
    manifest: Any,
    assets: Iterable[PythonAsset],
    base: nx.DiGraph,
    test_deps: Mapping[str, Sequence[str]] | None = None,
) -> UnifiedGraph:
    """Add the Python assets to dbt's own graph of the manifest (``base``, dbt's Linker).

    With ``test_deps`` (test unique_id -> the nodes it tests; for ``build``), a Python asset
    also waits for the tests on its inputs, as dbt makes models wait for theirs.
    """
    assets = list(assets)
    to_braid = {a.declared_by: a.unique_id for a in assets}
    to_dbt = {a.unique_id: a.declared_by for a in assets}
    view = base.copy()
    for asset in assets:
        view.add_node(asset.declared_by)
        for upstream in asset.depends_on:
            view.add_edge(to_dbt.get(upstream, upstream), asset.declared_by)
    if test_deps:
        _add_python_test_edges(view, test_deps, set(to_braid))
    tables = [graph_collection(manifest, name) for name in GRAPH_COLLECTIONS]
    for uid in view.nodes:
        for table in tables:
            if uid in table:
                view.nodes[uid].update(_attributes(uid, table[uid]))
                break
    graph = nx.DiGraph()
    graph.add_nodes_from((to_braid.get(u, u), dict(data)) for u, data in view.nodes(data=True))
    graph.add_edges_from(
        (to_braid.get(u, u), to_braid.get(v, v), data) for u, v, data in view.edges(data=True)
    )
    for asset in assets:
        graph.nodes[asset.unique_id].clear()
        graph.nodes[asset.unique_id].update(
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
            checksum=asset.code_version,
            reads_vars=asset.vars_read is None or bool(asset.vars_read),
        )
    return UnifiedGraph(graph, view, to_braid, to_dbt)


def _add_python_test_edges(
    view: nx.DiGraph, test_deps: Mapping[str, Sequence[str]], python_ids: set[str]
) -> None:
    """Edges test -> Python asset for tests on the asset's upstream nodes (as dbt's build)."""
    for test, deps in test_deps.items():
        if test not in view or not deps:
            continue
        candidates = {s for d in deps if d in view for s in view.successors(d)} & python_ids
        for asset in candidates:
            if asset == test:
                continue
            ancestors = nx.ancestors(view, asset)
            if all(d in ancestors for d in deps) and test not in nx.descendants(view, asset):
                view.add_edge(test, asset, edge_type="parent_test")


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
