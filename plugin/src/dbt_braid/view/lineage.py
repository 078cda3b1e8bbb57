"""The unified graph for people: Mermaid and Graphviz text from lineage.json's payload. Pure.

Both lay the graph out left to right and tell Python assets apart from dbt nodes at a
glance (a shape and a colour per kind), so the flow dbt -> Python -> dbt reads like the run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

#: resource type -> (Graphviz shape, fill colour)
STYLE = {
    "python": ("ellipse", "#fde68a"),
    "model": ("box", "#bfdbfe"),
    "seed": ("folder", "#d1fae5"),
    "snapshot": ("box3d", "#e9d5ff"),
    "source": ("cylinder", "#e5e7eb"),
    "exposure": ("house", "#fecaca"),
}
DEFAULT_STYLE = ("box", "#f3f4f6")


def _ident(uid: str, index: Mapping[str, int]) -> str:
    return f"n{index[uid]}"


def _label(node: Mapping[str, Any]) -> str:
    kind = node["resource_type"]
    name = node["name"]
    if kind == "source" and node.get("source_name"):
        name = f"{node['source_name']}.{name}"
    return f"{name} ({kind})"


def _mermaid_text(text: str) -> str:
    return re.sub(r'["<>]', "", text)


def to_mermaid(payload: Mapping[str, Any]) -> str:
    nodes = payload["nodes"]
    index = {n["unique_id"]: i for i, n in enumerate(nodes)}
    lines = ["flowchart LR"]
    for node in nodes:
        ident = _ident(node["unique_id"], index)
        label = _mermaid_text(_label(node))
        if node["resource_type"] == "python":
            lines.append(f'    {ident}(["{label}"])')
        elif node["resource_type"] == "source":
            lines.append(f'    {ident}[("{label}")]')
        else:
            lines.append(f'    {ident}["{label}"]')
    for edge in payload["edges"]:
        lines.append(f"    {_ident(edge['from'], index)} --> {_ident(edge['to'], index)}")
    for kind, (_, colour) in STYLE.items():
        members = [_ident(n["unique_id"], index) for n in nodes if n["resource_type"] == kind]
        if members:
            lines.append(f"    classDef {kind} fill:{colour},stroke:#374151")
            lines.append(f"    class {','.join(members)} {kind}")
    return "\n".join(lines) + "\n"


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _dot_lines(payload: Mapping[str, Any]) -> Iterator[str]:
    yield "digraph braid {"
    yield "    rankdir=LR;"
    yield '    node [style=filled, fontname="Helvetica"];'
    for node in payload["nodes"]:
        shape, colour = STYLE.get(node["resource_type"], DEFAULT_STYLE)
        tooltip = node.get("relation") or node.get("path") or node["unique_id"]
        yield (
            f'    "{_dot_text(node["unique_id"])}" [label="{_dot_text(_label(node))}", '
            f'shape={shape}, fillcolor="{colour}", tooltip="{_dot_text(tooltip)}"];'
        )
    for edge in payload["edges"]:
        yield f'    "{_dot_text(edge["from"])}" -> "{_dot_text(edge["to"])}";'
    yield "}"


def to_dot(payload: Mapping[str, Any]) -> str:
    return "\n".join(_dot_lines(payload)) + "\n"


def restrict(payload: Mapping[str, Any], keep: set[str]) -> dict[str, Any]:
    """The payload with only ``keep`` nodes and the edges between them."""
    return {
        "nodes": [n for n in payload["nodes"] if n["unique_id"] in keep],
        "edges": [e for e in payload["edges"] if e["from"] in keep and e["to"] in keep],
    }
