"""Planning: a pure function from (unified graph, selection) to an ordered plan.

The plan groups the selected dbt nodes into as few dbt invocations ("batches") as the Python
assets between them allow. A dbt node goes into the earliest batch its upstream permits: the
batch of its latest dbt upstream, or the stage of its latest Python upstream. A Python asset
runs at the stage after the batch of its latest dbt upstream. This as-soon-as-possible
assignment reaches the lower bound: the number of batches is one plus the largest number of
"dbt -> Python ... -> dbt" crossings on any path, which no plan can beat. A dbt node that
would hold its batch back waiting for a Python asset is then moved later where that costs
nothing (:func:`_defer_behind_python`).

Edges through unselected nodes are kept as transitive edges (as dbt does for its own
selection), so ordering never depends on what was left out.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

import networkx as nx

from dbt_braid.graph.unified import PYTHON


@dataclass(frozen=True)
class DbtBatch:
    """One in-process dbt invocation."""

    index: int
    nodes: tuple[str, ...]
    #: Python assets that must finish before this batch starts
    needs_python: frozenset[str] = frozenset()


@dataclass(frozen=True)
class PythonStep:
    """One Python asset; it may start once everything in ``needs`` has finished."""

    unique_id: str
    #: 0: before the first batch; k: after batch k-1
    stage: int
    needs: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Plan:
    batches: tuple[DbtBatch, ...]
    python: tuple[PythonStep, ...]
    #: every planned node in a dependency order
    order: tuple[str, ...]
    #: planned node -> the planned nodes it waits for (nearest, through unplanned ones)
    needs: Mapping[str, frozenset[str]] = field(default_factory=dict)
    #: the selected ephemeral models: never planned (dbt compiles them into their
    #: children), yet part of dbt's selection, so each goes into the invocations of its
    #: children (a failure to compile skips them, as dbt does) and into selected_resources
    ephemeral: frozenset[str] = frozenset()

    @property
    def dbt_nodes(self) -> tuple[str, ...]:
        return tuple(n for b in self.batches for n in b.nodes)

    def describe(self) -> str:
        """A readable outline, for ``--dry-run``-style output and test failures."""
        lines = []
        by_stage: dict[int, list[str]] = {}
        for step in self.python:
            by_stage.setdefault(step.stage, []).append(step.unique_id)
        for k in range(max([len(self.batches), *(s + 1 for s in by_stage)], default=0)):
            for uid in by_stage.get(k, []):
                lines.append(f"python  {uid}")
            if k < len(self.batches):
                lines.append(f"dbt[{k}]  {' '.join(self.batches[k].nodes)}")
        return "\n".join(lines)


def nearest_needs(
    graph: nx.DiGraph, planned: Collection[str], order: Iterable[str] | None = None
) -> dict[str, frozenset[str]]:
    """For each planned node, the planned nodes upstream of it with no planned node between."""
    order = list(order) if order is not None else list(nx.topological_sort(graph))
    planned = set(planned)
    relevant: set[str] = set(planned)
    stack = list(planned)
    while stack:
        for pred in graph.predecessors(stack.pop()):
            if pred not in relevant:
                relevant.add(pred)
                stack.append(pred)
    through: dict[str, frozenset[str]] = {}
    needs: dict[str, frozenset[str]] = {}
    empty: frozenset[str] = frozenset()
    for uid in order:
        if uid not in relevant:
            continue
        acc: set[str] = set()
        for pred in graph.predecessors(uid):
            if pred in planned:
                acc.add(pred)
            else:
                acc |= through.get(pred, empty)
        frozen = frozenset(acc)
        if uid in planned:
            needs[uid] = frozen
        else:
            through[uid] = frozen
    return needs


def make_plan(
    graph: nx.DiGraph,
    selected: Iterable[str],
    runnable_types: Collection[str] = ("model",),
    include_python: bool = True,
) -> Plan:
    """Plan the selected nodes that can run: Python assets (unless ``include_python`` is
    false) and dbt nodes of ``runnable_types``."""
    nodes = graph.nodes
    runs = {
        u
        for u in selected
        if u in graph
        and (
            (nodes[u]["kind"] == PYTHON and include_python)
            or nodes[u]["resource_type"] in runnable_types
        )
    }
    # dbt compiles an ephemeral model into its children; it never runs on its own
    ephemeral = frozenset(u for u in runs if nodes[u].get("materialized") == "ephemeral")
    planned = runs - ephemeral
    topo = list(nx.topological_sort(graph))
    needs = nearest_needs(graph, planned, topo)
    batch_of: dict[str, int] = {}
    stage_of: dict[str, int] = {}
    order = [u for u in topo if u in planned]
    for uid in order:
        if nodes[uid]["kind"] == PYTHON:
            stage_of[uid] = max(
                [batch_of[p] + 1 for p in needs[uid] if p in batch_of]
                + [stage_of[p] for p in needs[uid] if p in stage_of]
                + [0]
            )
        else:
            batch_of[uid] = max(
                [batch_of[p] for p in needs[uid] if p in batch_of]
                + [stage_of[p] for p in needs[uid] if p in stage_of]
                + [0]
            )
    count = max(batch_of.values(), default=-1) + 1
    if count > 1:
        _defer_behind_python(order, needs, batch_of, stage_of, count)
    members: list[list[str]] = [[] for _ in range(count)]
    for uid in order:
        if uid in batch_of:
            members[batch_of[uid]].append(uid)
    ancestors_python: list[set[str]] = [set() for _ in range(count)]
    python_up: dict[str, frozenset[str]] = {}
    for uid in order:
        ups: set[str] = set()
        for p in needs[uid]:
            ups |= python_up[p]
            if p in stage_of:
                ups.add(p)
        python_up[uid] = frozenset(ups)
        if uid in batch_of:
            ancestors_python[batch_of[uid]] |= ups
    batches = tuple(
        DbtBatch(k, tuple(members[k]), frozenset(ancestors_python[k])) for k in range(count)
    )
    steps = tuple(PythonStep(u, stage_of[u], needs[u]) for u in order if u in stage_of)
    return Plan(batches=batches, python=steps, order=tuple(order), needs=needs,
                ephemeral=ephemeral)


def _defer_behind_python(
    order: list[str],
    needs: Mapping[str, frozenset[str]],
    batch_of: dict[str, int],
    stage_of: Mapping[str, int],
    count: int,
) -> None:
    """Move dbt nodes that would make a batch wait for a Python asset to a later batch.

    In the as-soon-as-possible plan a model fed by a slow loader (say an API call) sits in
    the first batch, and the whole batch waits for the loader. When nothing Python is
    downstream of that model, it can go to the latest batch its dbt dependents allow: the
    loader then runs while the earlier batches do, and the batch count does not change.
    """
    dependents: dict[str, list[str]] = {u: [] for u in order}
    for uid in order:
        for p in needs[uid]:
            dependents[p].append(uid)
    latest_batch: dict[str, int] = {}
    latest_stage: dict[str, int] = {}
    python_below: dict[str, bool] = {}
    for uid in reversed(order):
        below = dependents[uid]
        python_below[uid] = any(d in stage_of or python_below[d] for d in below)
        bound = [latest_batch[d] for d in below if d in batch_of]
        if uid in stage_of:
            latest_stage[uid] = min(
                [*bound, *(latest_stage[d] for d in below if d in stage_of), count]
            )
        else:
            latest_batch[uid] = min(
                [*bound, *(latest_stage[d] - 1 for d in below if d in stage_of), count - 1]
            )
    for uid in order:
        if uid not in batch_of:
            continue
        earliest = max(
            [batch_of[p] for p in needs[uid] if p in batch_of]
            + [stage_of[p] for p in needs[uid] if p in stage_of]
            + [0]
        )
        waits = any(stage_of.get(p) == earliest for p in needs[uid])
        batch_of[uid] = latest_batch[uid] if waits and not python_below[uid] else earliest


def batch_lower_bound(graph: nx.DiGraph, planned: Collection[str]) -> int:
    """The fewest dbt batches any valid plan needs, by brute force over paths.

    Independent of :func:`make_plan` on purpose (tests compare the two): the count of
    dbt -> (Python)+ -> dbt crossings along the worst path, plus one; 0 without dbt nodes.
    """
    needs = nearest_needs(graph, planned)
    sub = nx.DiGraph()
    sub.add_nodes_from(planned)
    sub.add_edges_from((p, u) for u, ps in needs.items() for p in ps)
    is_py = {u: graph.nodes[u]["kind"] == PYTHON for u in planned}
    if all(is_py.values()):
        return 0
    best = 1
    # crossings[u][seen_dbt_then_python] over all paths ending at u
    crossings: dict[str, tuple[int, int]] = {}
    for uid in nx.topological_sort(sub):
        # (max crossings ending at uid with the path's last dbt node closed,
        #  max crossings with a Python run pending after a dbt node; -1 if impossible)
        closed, pending = (0 if not is_py[uid] else -1), (-1)
        for p in sub.predecessors(uid):
            pc, pp = crossings[p]
            if is_py[uid]:
                pending = max(pending, pc if not is_py[p] else pp)
            else:
                closed = max(closed, pc, pp + 1 if pp >= 0 else -1)
        if is_py[uid]:
            # a Python node after no dbt node opens no crossing
            crossings[uid] = (-1, pending)
        else:
            crossings[uid] = (closed, -1)
            best = max(best, closed + 1)
    return best
