"""Selection over the unified graph: names, ``+`` graph operators, union and intersection.

This is the part of dbt's syntax braid evaluates itself for now: a bare name (a node's name,
or a dotted fqn prefix such as ``staging`` or ``my_project.marts``), ``+`` and ``n+`` on
either side, ``@``, space for union and comma for intersection. Operators walk through
Python assets as through dbt nodes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import networkx as nx

from dbt_braid.errors import BraidUserError
from dbt_braid.graph import PYTHON

_TOKEN = re.compile(r"^(?P<at>@)?(?:(?P<up>\d*)\+)?(?P<value>[^+@]+?)(?:\+(?P<down>\d*))?$")


def _matches(data: dict, value: str) -> bool:
    if value.startswith("python:"):
        return data["kind"] == PYTHON and data["name"] == value[len("python:") :]
    if value == "resource_type:python":
        return data["kind"] == PYTHON
    if data["kind"] != PYTHON and data["resource_type"] == "source":
        # as dbt: a bare name or fqn never matches a source (that takes ``source:``)
        return False
    if data["name"] == value:
        return True
    fqn = [part for seg in data.get("fqn", ()) for part in str(seg).split(".")]
    want = value.split(".")
    return fqn[: len(want)] == want or fqn[1 : 1 + len(want)] == want


def _depth(text: str | None) -> int | None:
    return int(text) if text else None


def _walk(graph: nx.DiGraph, starts: set[str], up: bool, depth: int | None) -> set[str]:
    seen = set(starts)
    frontier = set(starts)
    level = 0
    while frontier and (depth is None or level < depth):
        nxt = set()
        for uid in frontier:
            nxt.update(graph.predecessors(uid) if up else graph.successors(uid))
        frontier = nxt - seen
        seen |= frontier
        level += 1
    return seen


def select_token(graph: nx.DiGraph, token: str) -> set[str]:
    m = _TOKEN.match(token)
    if not m:
        raise BraidUserError(f"cannot read the selector {token!r}")
    value = m.group("value")
    base = {uid for uid, data in graph.nodes(data=True) if _matches(data, value)}
    chosen = set(base)
    if m.group("at"):
        down = _walk(graph, base, up=False, depth=None)
        chosen = _walk(graph, down, up=True, depth=None)
        return chosen
    if m.group("up") is not None:
        chosen |= _walk(graph, base, up=True, depth=_depth(m.group("up")))
    if m.group("down") is not None:
        chosen |= _walk(graph, base, up=False, depth=_depth(m.group("down")))
    return chosen


def _split(values: Sequence[str] | None) -> list[str]:
    return [tok for v in values or () for tok in v.split()]


def select(
    graph: nx.DiGraph, select: Sequence[str] | None = None, exclude: Sequence[str] | None = None
) -> tuple[set[str], list[str]]:
    """(selected unique_ids, selectors that matched nothing)."""
    unmatched: list[str] = []

    def evaluate(tokens: Iterable[str]) -> set[str]:
        chosen: set[str] = set()
        for token in tokens:
            parts = [select_token(graph, p) for p in token.split(",")]
            hit = set.intersection(*parts) if parts else set()
            if not hit:
                unmatched.append(token)
            chosen |= hit
        return chosen

    chosen = evaluate(_split(select)) if _split(select) else set(graph.nodes)
    if exclude:
        chosen -= evaluate(_split(exclude))
    return chosen, unmatched
