"""Dependency cycles among the declarations, found while validating them.

A cycle must be reported in the same pass as every other problem, even when the assets in
it also have signature problems (an asset depending on itself usually does: the function
has no parameter for itself), and named as what it is. So validation builds the graph it
can already see: each asset's resolved inputs, and dbt's own ``depends_on`` between nodes,
a source that an asset writes standing for that asset.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import networkx as nx


def find_cycles(
    asset_inputs: Mapping[str, Iterable[str]],
    dbt_parents: Mapping[str, Iterable[str]],
    written_by: Mapping[str, str],
) -> list[list[str]]:
    """Each cycle that passes through a Python asset, as the unique_ids along it, starting
    at its first asset (sorted), so the report is stable.

    ``asset_inputs``: asset unique_id -> the unique_ids it reads; ``dbt_parents``: dbt node
    -> its parents (nodes and sources); ``written_by``: source unique_id -> the asset that
    writes it."""
    graph = nx.DiGraph()
    for asset, inputs in asset_inputs.items():
        graph.add_node(asset)
        for parent in inputs:
            graph.add_edge(written_by.get(parent, parent), asset)
    for node, parents in dbt_parents.items():
        for parent in parents:
            graph.add_edge(written_by.get(parent, parent), node)
    cycles = []
    for component in nx.strongly_connected_components(graph):
        assets = sorted(u for u in component if u in asset_inputs)
        if not assets:
            continue
        if len(component) == 1 and not graph.has_edge(assets[0], assets[0]):
            continue
        cycle = [u for u, _ in nx.find_cycle(graph.subgraph(component), source=assets[0])]
        start = cycle.index(min(u for u in cycle if u in asset_inputs))
        cycles.append(cycle[start:] + cycle[:start])
    return sorted(cycles)


def describe(cycle: list[str], name: Callable[[str], str]) -> str:
    """``python:a -> model b -> python:a``; an asset reading itself says so."""
    if len(cycle) == 1:
        return f"dependency cycle: {name(cycle[0])} depends on itself; remove it from depends_on"
    shown = " -> ".join(name(u) for u in [*cycle, cycle[0]])
    return f"dependency cycle: {shown}; remove one of these dependencies"
