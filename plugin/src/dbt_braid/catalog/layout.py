"""Where each node sits in the catalog's graph. Pure.

Left to right: a node's column is the longest path to it from a root; within a column,
nodes are ordered by the average position of their neighbours, a few sweeps down and up,
which keeps edge crossings few. Computed here rather than in the browser, so a 1,000-node
page opens without laying anything out.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence

#: order of kinds inside a column before the crossing sweeps
KIND_RANK = {"seed": 0, "source": 1, "snapshot": 2, "model": 3, "python": 4, "exposure": 5}


def layout(nodes: Sequence[Mapping[str, str]], edges: Iterable[tuple[str, str]]
           ) -> dict[str, tuple[int, int]]:
    """unique_id -> (column, row) for ``nodes`` (``unique_id``, ``name``,
    ``resource_type``) joined by ``edges`` (upstream, downstream)."""
    ids = [n["unique_id"] for n in nodes]
    kind = {n["unique_id"]: n["resource_type"] for n in nodes}
    name = {n["unique_id"]: n["name"] for n in nodes}
    parents: dict[str, list[str]] = {u: [] for u in ids}
    children: dict[str, list[str]] = {u: [] for u in ids}
    for a, b in edges:
        if a in parents and b in parents and a != b:
            parents[b].append(a)
            children[a].append(b)
    column = dict.fromkeys(ids, 0)
    waiting = {u: len(parents[u]) for u in ids}
    queue = deque(u for u in ids if waiting[u] == 0)
    while queue:
        u = queue.popleft()
        for child in children[u]:
            column[child] = max(column[child], column[u] + 1)
            waiting[child] -= 1
            if waiting[child] == 0:
                queue.append(child)
    width = max(column.values(), default=0) + 1
    columns: list[list[str]] = [[] for _ in range(width)]
    for u in sorted(ids, key=lambda u: (KIND_RANK.get(kind[u], 9), name[u], u)):
        columns[column[u]].append(u)
    where = {u: (i + 0.5) / len(col) for col in columns for i, u in enumerate(col)}
    for _ in range(4):
        for near, order in ((parents, range(1, width)), (children, range(width - 2, -1, -1))):
            for c in order:
                def key(u: str, near: dict[str, list[str]] = near) -> float:
                    seen = [where[v] for v in near[u]]
                    return sum(seen) / len(seen) if seen else where[u]

                columns[c].sort(key=key)
                where.update({u: (i + 0.5) / len(columns[c]) for i, u in enumerate(columns[c])})
    return {u: (c, i) for c, col in enumerate(columns) for i, u in enumerate(col)}
