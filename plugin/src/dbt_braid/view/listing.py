"""``braid ls``: the selection across dbt nodes and Python assets, in dependency order.

A dbt node prints exactly as ``dbt ls`` prints it (selector, name, path or json with dbt's
default keys); a Python asset prints as ``python:NAME`` in name and selector output, its
declaring YAML file in path output, and a JSON object in the same shape in json output.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any

import networkx as nx

from dbt_braid.core.assets import PythonAsset
from dbt_braid.dbtcore.versions import (
    GRAPH_COLLECTIONS,
    graph_collection,
    ls_default_keys,
    ls_json,
)
from dbt_braid.graph.unified import PYTHON

OUTPUTS = ("selector", "name", "json", "path")
#: the keys of a Python asset's line in `ls --output json` (dbt's own defaults; dbt nodes use
#: the installed dbt's list, dbtcore.versions.ls_default_keys)
DEFAULT_KEYS = (
    "alias",
    "name",
    "package_name",
    "depends_on",
    "tags",
    "config",
    "resource_type",
    "source_name",
    "original_file_path",
    "unique_id",
)
#: resource types ``dbt ls`` lists unless told otherwise (all but analyses), plus Python
DEFAULT_TYPES = frozenset(
    {
        "model",
        "snapshot",
        "seed",
        "test",
        "source",
        "exposure",
        "metric",
        "saved_query",
        "semantic_model",
        "unit_test",
        "function",
        "python",
    }
)
ALL_TYPES = DEFAULT_TYPES | {"analysis"}

_PREFIXED = {
    "exposure": "exposure",
    "metric": "metric",
    "saved_query": "saved_query",
    "semantic_model": "semantic_model",
}


def dependency_order(graph: nx.DiGraph, selected: set[str]) -> list[str]:
    """Selected nodes upstream first; ties broken by unique_id so the output is stable."""
    sub = graph.subgraph(selected)
    return list(nx.lexicographical_topological_sort(sub))


def _json_keys(
    node_dict: Mapping[str, Any], keys: Sequence[str], default: Collection[str] = DEFAULT_KEYS
) -> dict[str, Any]:
    if not keys:
        return {k: v for k, v in node_dict.items() if k in default}
    out: dict[str, Any] = {}
    for key in keys:
        value: Any = node_dict
        for part in key.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        if value is not None:
            out[key] = value
    return out


def python_dict(asset: PythonAsset, graph: nx.DiGraph) -> dict[str, Any]:
    return {
        "name": asset.name,
        "resource_type": "python",
        "package_name": asset.package_name,
        "original_file_path": asset.yaml_file,
        "unique_id": asset.unique_id,
        "tags": list(asset.tags),
        "depends_on": {"nodes": sorted(graph.predecessors(asset.unique_id))},
        "config": {"meta": {"braid": {"python": asset.python, "io": asset.io}}},
        "python": asset.python,
        "python_file": asset.module_file,
        "declared_by": asset.declared_by,
        "relation": str(asset.relation) if asset.relation else None,
        "source_name": asset.source_name,
    }


def _dbt_node(manifest: Any, uid: str) -> Any:
    for table in GRAPH_COLLECTIONS:
        found = graph_collection(manifest, table).get(uid)
        if found is not None:
            return found
    raise KeyError(uid)


def selector_of(node: Any) -> str:
    """The selector ``dbt ls`` prints for a dbt node."""
    return _selector(node)


def _selector(node: Any) -> str:
    kind = str(getattr(node.resource_type, "value", node.resource_type))
    if kind == "source":
        return f"source:{node.package_name}.{node.source_name}.{node.name}"
    if kind in _PREFIXED:
        return f"{_PREFIXED[kind]}:{node.package_name}.{node.name}"
    if kind == "unit_test":
        return f"unit_test:{node.package_name}.{node.versioned_name}"
    return ".".join(node.fqn)


def render(
    order: Sequence[str],
    graph: nx.DiGraph,
    manifest: Any,
    assets: Mapping[str, PythonAsset],
    output: str = "selector",
    output_keys: Sequence[str] = (),
) -> Iterator[str]:
    """One line per node, as ``dbt ls`` would print it."""
    for uid in order:
        if graph.nodes[uid]["kind"] == PYTHON:
            asset = assets[uid]
            if output in ("selector", "name"):
                yield f"python:{asset.name}"
            elif output == "path":
                yield asset.yaml_file
            else:
                yield json.dumps(_json_keys(python_dict(asset, graph), output_keys))
            continue
        node = _dbt_node(manifest, uid)
        if output == "selector":
            yield _selector(node)
        elif output == "name":
            yield node.search_name
        elif output == "path":
            yield node.original_file_path
        else:
            from dbt.utils import JSONEncoder

            yield json.dumps(
                _json_keys(ls_json(node), output_keys, ls_default_keys()), cls=JSONEncoder
            )
