"""The planner on hand-built graphs: no dbt, no database.

``make_plan`` must run every selected runnable node exactly once, respect every dependency
(also through nodes left out of the selection) and use exactly as many dbt invocations as
the lower bound: one plus the most "dbt -> Python ... -> dbt" crossings on any path. The
lower bound is computed here a second time by brute force over paths, independently of
both ``make_plan`` and ``batch_lower_bound``.
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Collection, Iterable

import networkx as nx
import pytest
from dbt_braid.planning.batches import Plan, batch_lower_bound, make_plan
from dbt_braid.planning.rules import batch_may_start, python_may_start
from dbt_braid.planning.timing import estimate, refine, simulate
from graphs import add_dbt, add_py
from hypothesis import HealthCheck, given, settings, target
from hypothesis import strategies as st

# ---------------------------------------------------------------------------- graph helpers


def is_python(graph: nx.DiGraph, uid: str) -> bool:
    return graph.nodes[uid]["kind"] == "python"


def expected_planned(
    graph: nx.DiGraph, selected: Iterable[str], runnable: Collection[str]
) -> set[str]:
    return {
        u
        for u in selected
        if u in graph and (is_python(graph, u) or graph.nodes[u]["resource_type"] in runnable)
    }


# ------------------------------------------------------- independent checks of a plan


def crossings(kinds: str) -> int:
    """Crossings on one path, given as a string of 'd' (dbt) and 'p' (Python) nodes."""
    return len(re.findall(r"(?<=d)p+(?=d)", kinds))


def brute_force_lower_bound(graph: nx.DiGraph, planned: Collection[str]) -> int:
    """Enumerate every path of the transitive closure restricted to the planned nodes."""
    planned = set(planned)
    if not any(not is_python(graph, u) for u in planned):
        return 0
    closure = {u: nx.descendants(graph, u) & planned for u in planned}
    best = 0

    def walk(u: str, kinds: str) -> None:
        nonlocal best
        best = max(best, crossings(kinds))
        for v in closure[u]:
            walk(v, kinds + ("p" if is_python(graph, v) else "d"))

    for u in planned:
        walk(u, "p" if is_python(graph, u) else "d")
    return best + 1


def brute_force_nearest(graph: nx.DiGraph, planned: set[str], v: str) -> set[str]:
    """Planned u with a path u -> ... -> v whose inner nodes are all unplanned."""
    out = set()
    for u in planned:
        if u == v:
            continue
        inner = graph.subgraph((set(graph) - planned) | {u, v})
        if nx.has_path(inner, u, v):
            out.add(u)
    return out


def transitive(needs: dict[str, frozenset[str]], v: str) -> set[str]:
    seen: set[str] = set()
    stack = list(needs[v])
    while stack:
        u = stack.pop()
        if u not in seen:
            seen.add(u)
            stack.extend(needs[u])
    return seen


def check_plan(
    graph: nx.DiGraph, selected: Iterable[str], runnable: Collection[str], plan: Plan,
    minimal: bool = True,
) -> None:
    planned = expected_planned(graph, selected, runnable)

    # (a) every selected runnable node is planned exactly once, nothing else is
    dbt_nodes = list(plan.dbt_nodes)
    py_nodes = [s.unique_id for s in plan.python]
    assert sorted(dbt_nodes + py_nodes) == sorted(planned)
    assert len(set(dbt_nodes + py_nodes)) == len(dbt_nodes) + len(py_nodes)
    assert sorted(plan.order) == sorted(planned)
    assert all(not is_python(graph, u) for u in dbt_nodes)
    assert all(is_python(graph, u) for u in py_nodes)
    assert set(plan.needs) == planned

    batch = {u: b.index for b in plan.batches for u in b.nodes}
    stage = {s.unique_id: s.stage for s in plan.python}
    assert [b.index for b in plan.batches] == list(range(len(plan.batches)))
    assert all(b.nodes for b in plan.batches), "no empty dbt invocation"
    assert all(0 <= s <= len(plan.batches) for s in stage.values())

    # needs: the nearest planned upstream nodes, through unplanned ones
    for v in planned:
        assert set(plan.needs[v]) == brute_force_nearest(graph, planned, v), v
    for step in plan.python:
        assert step.needs == plan.needs[step.unique_id]

    # (b) every dependency, transitive ones included, is respected
    position = {u: i for i, u in enumerate(plan.order)}
    for u in planned:
        for v in nx.descendants(graph, u) & planned:
            assert position[u] < position[v]
            if u in batch and v in batch:
                assert batch[u] <= batch[v], (u, v)
            elif u in batch:
                assert stage[v] >= batch[u] + 1, (u, v)
                assert u in transitive(plan.needs, v), (u, v)
            elif v in batch:
                assert batch[v] >= stage[u], (u, v)
                assert u in plan.batches[batch[v]].needs_python, (u, v)
            else:
                assert stage[u] <= stage[v], (u, v)
                assert u in transitive(plan.needs, v), (u, v)

    # a batch waits for exactly the Python assets upstream of its members
    for b in plan.batches:
        upstream_python = {
            p
            for p in planned
            if is_python(graph, p)
            for member in b.nodes
            if nx.has_path(graph, p, member)
        }
        assert b.needs_python == upstream_python, b.index
        # so no batch waits for a Python asset that it feeds
        fed = {p for p in planned if is_python(graph, p)
               for member in b.nodes if nx.has_path(graph, member, p)}
        assert not b.needs_python & fed, b.index

    # (c) as few batches as possible (unless history's durations made it split one)
    if not minimal:
        return
    bound = brute_force_lower_bound(graph, planned)
    assert len(plan.batches) == bound
    assert batch_lower_bound(graph, planned) == bound


# -------------------------------------------------------------------- the seed scenario


def seed_scenario() -> tuple[nx.DiGraph, dict[str, str]]:
    g = nx.DiGraph()
    n = {
        "raw": add_dbt(g, "raw_orders", "seed"),
        "stg": add_dbt(g, "stg_orders", folder=("staging",)),
        "fct": add_dbt(g, "fct_orders", folder=("marts",)),
        "train": add_py(g, "train"),
        "predict": add_py(g, "predict"),
        "summary": add_dbt(g, "forecast_summary", folder=("forecasting",)),
        "test": add_dbt(g, "not_null_forecast_summary_week", "test"),
        "export": add_py(g, "write_csv"),
        "loader": add_py(g, "load_weather"),
        "weather": add_dbt(g, "weather_daily", folder=("staging",)),
    }
    g.add_edges_from(
        [
            (n["raw"], n["stg"]),
            (n["stg"], n["fct"]),
            (n["fct"], n["train"]),
            (n["train"], n["predict"]),
            (n["fct"], n["predict"]),
            (n["predict"], n["summary"]),
            (n["summary"], n["test"]),
            (n["summary"], n["export"]),
            (n["loader"], n["weather"]),
        ]
    )
    return g, n


def test_seed_scenario_runs_in_exactly_two_batches() -> None:
    g, n = seed_scenario()
    selected = set(g) - {n["export"]}
    plan = make_plan(g, selected)
    check_plan(g, selected, ("model",), plan)

    assert len(plan.batches) == 2
    assert plan.batches[0].nodes == (n["stg"], n["fct"])
    # weather_daily would hold batch 0 back until the loader finished; nothing Python is
    # downstream of it, so it goes to batch 1 and the loader overlaps batch 0
    assert set(plan.batches[1].nodes) == {n["summary"], n["weather"]}
    assert plan.batches[0].needs_python == frozenset()
    assert plan.batches[1].needs_python == {n["train"], n["predict"], n["loader"]}

    steps = {s.unique_id: s for s in plan.python}
    assert set(steps) == {n["loader"], n["train"], n["predict"]}
    assert steps[n["loader"]].stage == 0
    assert steps[n["loader"]].needs == frozenset()
    assert steps[n["train"]].stage == 1
    assert steps[n["train"]].needs == {n["fct"]}
    assert steps[n["predict"]].stage == 1
    assert steps[n["predict"]].needs == {n["train"], n["fct"]}
    # the seed and the test are selected but `run` does not run them
    assert n["raw"] not in plan.order and n["test"] not in plan.order
    assert plan.needs[n["stg"]] == frozenset()
    assert plan.needs[n["summary"]] == {n["predict"]}
    assert batch_lower_bound(g, plan.order) == 2


def test_seed_scenario_describe() -> None:
    g, n = seed_scenario()
    plan = make_plan(g, set(g))
    text = plan.describe()
    lines = text.splitlines()
    assert lines[0] == f"python  {n['loader']}"
    assert lines[1].startswith("dbt[0]  ")
    assert set(lines[1].split()[1:]) == {n["stg"], n["fct"]}
    assert set(lines[2:4]) == {f"python  {n['train']}", f"python  {n['predict']}"}
    assert lines.index(f"python  {n['train']}") < lines.index(f"python  {n['predict']}")
    assert lines[4].startswith("dbt[1]  ")
    assert set(lines[4].split()[1:]) == {n["summary"], n["weather"]}
    # the exporter runs after the last batch
    assert lines[5:] == [f"python  {n['export']}"]
    # every planned node appears exactly once
    tokens = text.split()
    assert all(tokens.count(uid) == 1 for uid in plan.order)
    assert len([t for t in tokens if t not in ("python", "dbt[0]", "dbt[1]")]) == len(plan.order)


def test_seed_scenario_with_build_types_plans_seed_and_test() -> None:
    g, n = seed_scenario()
    runnable = ("model", "seed", "snapshot", "test")
    plan = make_plan(g, set(g), runnable)
    check_plan(g, set(g), runnable, plan)
    assert len(plan.batches) == 2
    assert n["raw"] in plan.batches[0].nodes
    assert n["test"] in plan.batches[1].nodes


# ------------------------------------------------------------------------ edge cases


def test_empty_selection_plans_nothing() -> None:
    g, _ = seed_scenario()
    plan = make_plan(g, [])
    assert plan.batches == () and plan.python == () and plan.order == ()
    assert plan.describe() == ""
    assert batch_lower_bound(g, []) == 0


def test_unknown_and_unrunnable_selected_nodes_are_ignored() -> None:
    g = nx.DiGraph()
    src = add_dbt(g, "orders", "source")
    exp = add_dbt(g, "dashboard", "exposure")
    m = add_dbt(g, "stg")
    g.add_edges_from([(src, m), (m, exp)])
    plan = make_plan(g, [src, exp, m, "model.proj.gone"])
    assert plan.order == (m,)
    assert len(plan.batches) == 1


def test_no_dbt_nodes_means_no_batches() -> None:
    g = nx.DiGraph()
    a, b, c = add_py(g, "a"), add_py(g, "b"), add_py(g, "c")
    src = add_dbt(g, "raw", "source")
    g.add_edges_from([(src, a), (a, b), (a, c)])
    plan = make_plan(g, set(g))
    check_plan(g, set(g), ("model",), plan)
    assert plan.batches == ()
    assert {s.unique_id: s.stage for s in plan.python} == {a: 0, b: 0, c: 0}
    assert plan.needs[b] == {a} and plan.needs[a] == frozenset()
    assert batch_lower_bound(g, plan.order) == 0
    assert plan.describe().splitlines()[0] == f"python  {a}"


def test_no_python_nodes_means_one_batch() -> None:
    g = nx.DiGraph()
    ids = [add_dbt(g, f"m{i}") for i in range(6)]
    g.add_edges_from([(ids[0], ids[1]), (ids[1], ids[2]), (ids[0], ids[3]), (ids[4], ids[5])])
    plan = make_plan(g, set(g))
    check_plan(g, set(g), ("model",), plan)
    assert len(plan.batches) == 1
    assert plan.python == ()
    nodes = plan.batches[0].nodes
    assert set(nodes) == set(ids)
    assert nodes.index(ids[0]) < nodes.index(ids[1]) < nodes.index(ids[2])
    assert plan.describe() == f"dbt[0]  {' '.join(nodes)}"


def test_alternating_chain_needs_three_batches() -> None:
    g = nx.DiGraph()
    d1, p1, d2, p2, d3 = (
        add_dbt(g, "d1"),
        add_py(g, "p1"),
        add_dbt(g, "d2"),
        add_py(g, "p2"),
        add_dbt(g, "d3"),
    )
    nx.add_path(g, [d1, p1, d2, p2, d3])
    plan = make_plan(g, set(g))
    check_plan(g, set(g), ("model",), plan)
    assert [b.nodes for b in plan.batches] == [(d1,), (d2,), (d3,)]
    assert {s.unique_id: s.stage for s in plan.python} == {p1: 1, p2: 2}
    assert plan.batches[2].needs_python == {p1, p2}
    assert plan.describe().splitlines() == [
        f"dbt[0]  {d1}",
        f"python  {p1}",
        f"dbt[1]  {d2}",
        f"python  {p2}",
        f"dbt[2]  {d3}",
    ]


def test_python_at_both_ends_of_a_chain() -> None:
    g = nx.DiGraph()
    p0, d1, p1, d2, p2 = (
        add_py(g, "p0"),
        add_dbt(g, "d1"),
        add_py(g, "p1"),
        add_dbt(g, "d2"),
        add_py(g, "p2"),
    )
    nx.add_path(g, [p0, d1, p1, d2, p2])
    plan = make_plan(g, set(g))
    check_plan(g, set(g), ("model",), plan)
    assert len(plan.batches) == 2
    assert {s.unique_id: s.stage for s in plan.python} == {p0: 0, p1: 1, p2: 2}


def test_python_diamond() -> None:
    g = nx.DiGraph()
    top, left, right, bottom = (
        add_dbt(g, "top"),
        add_py(g, "left"),
        add_py(g, "right"),
        add_dbt(g, "bottom"),
    )
    g.add_edges_from([(top, left), (top, right), (left, bottom), (right, bottom)])
    plan = make_plan(g, set(g))
    check_plan(g, set(g), ("model",), plan)
    assert [b.nodes for b in plan.batches] == [(top,), (bottom,)]
    assert {s.unique_id: s.stage for s in plan.python} == {left: 1, right: 1}
    assert plan.batches[1].needs_python == {left, right}
    assert plan.needs[bottom] == {left, right}


def test_mixed_diamond_keeps_the_dbt_side_early() -> None:
    g = nx.DiGraph()
    top, side, py, bottom = (
        add_dbt(g, "top"),
        add_dbt(g, "side"),
        add_py(g, "py"),
        add_dbt(g, "bottom"),
    )
    g.add_edges_from([(top, side), (top, py), (side, bottom), (py, bottom)])
    plan = make_plan(g, set(g))
    check_plan(g, set(g), ("model",), plan)
    assert [set(b.nodes) for b in plan.batches] == [{top, side}, {bottom}]
    assert plan.needs[bottom] == {side, py}


def test_python_between_dbt_nodes_via_unselected_dbt_node() -> None:
    g = nx.DiGraph()
    a, hidden, py, b = add_dbt(g, "a"), add_dbt(g, "hidden"), add_py(g, "py"), add_dbt(g, "b")
    nx.add_path(g, [a, hidden, py, b])
    selected = {a, py, b}
    plan = make_plan(g, selected)
    check_plan(g, selected, ("model",), plan)
    assert [b_.nodes for b_ in plan.batches] == [(a,), (b,)]
    assert plan.python[0].stage == 1
    assert plan.python[0].needs == {a}  # through the unselected model
    assert hidden not in plan.order


def test_unselected_python_between_dbt_nodes_does_not_split() -> None:
    g = nx.DiGraph()
    a, py, b = add_dbt(g, "a"), add_py(g, "py"), add_dbt(g, "b")
    nx.add_path(g, [a, py, b])
    plan = make_plan(g, {a, b})
    check_plan(g, {a, b}, ("model",), plan)
    assert [bt.nodes for bt in plan.batches] == [(a, b)]
    assert plan.needs[b] == {a}


def test_unrunnable_node_between_keeps_the_order() -> None:
    # a seed selected under `run` is not planned, but what runs after it still waits
    g = nx.DiGraph()
    py, seed, model = add_py(g, "py"), add_dbt(g, "s", "seed"), add_dbt(g, "m")
    first = add_dbt(g, "first")
    nx.add_path(g, [first, py, seed, model])
    plan = make_plan(g, set(g))
    check_plan(g, set(g), ("model",), plan)
    assert [bt.nodes for bt in plan.batches] == [(first,), (model,)]
    assert plan.needs[model] == {py}


# ------------------------------------------------------------------ generated graphs

RESOURCE_TYPES = ["model"] * 4 + ["python"] * 4 + ["source", "exposure", "test", "seed"]
RUNNABLE_CHOICES = [("model",), ("model", "seed", "snapshot", "test")]


@st.composite
def scenarios(
    draw: st.DrawFn,
    min_nodes: int = 1,
    max_nodes: int = 12,
    resource_types: list[str] = RESOURCE_TYPES,
    select_all: bool = False,
):
    n = draw(st.integers(min_value=min_nodes, max_value=max_nodes))
    types = draw(st.lists(st.sampled_from(resource_types), min_size=n, max_size=n))
    edges = []
    for child in range(1, n):
        # mostly the node just before, so that paths get long; any earlier one as well
        near = st.integers(min_value=max(0, child - 3), max_value=child - 1)
        anywhere = st.integers(min_value=0, max_value=child - 1)
        parents = draw(st.sets(near | anywhere, max_size=3))
        edges += [(parent, child) for parent in sorted(parents)]
    insertion = draw(st.permutations(range(n)))
    every = select_all or draw(st.booleans())
    keep = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    chosen = {i for i in range(n) if every or keep[i]}
    runnable = draw(st.sampled_from(RUNNABLE_CHOICES))
    return types, edges, insertion, chosen, runnable


def build(
    types: list[str], edges: list[tuple[int, int]], insertion: Iterable[int]
) -> tuple[nx.DiGraph, list[str]]:
    g = nx.DiGraph()
    uid: dict[int, str] = {}
    for i in insertion:
        t = types[i]
        uid[i] = add_py(g, f"n{i}") if t == "python" else add_dbt(g, f"n{i}", t)
    for a, b in edges:
        g.add_edge(uid[a], uid[b])
    return g, [uid[i] for i in range(len(types))]


SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
#: the main property over at least 1,000 random mixed graphs (issue 14)
THOUSAND = settings(SETTINGS, max_examples=1000)


@THOUSAND
@given(scenarios())
def test_generated_plans_are_complete_ordered_and_minimal(scenario) -> None:
    types, edges, insertion, chosen, runnable = scenario
    g, ids = build(types, edges, insertion)
    selected = {ids[i] for i in chosen}
    plan = make_plan(g, selected, runnable)
    target(float(len(plan.batches)), label="batches")
    check_plan(g, selected, runnable, plan)


@SETTINGS
@given(scenarios(min_nodes=5, resource_types=["model", "python"], select_all=True))
def test_generated_deep_mixed_chains(scenario) -> None:
    """Only models and Python assets, all selected: many crossings per path."""
    types, edges, insertion, chosen, runnable = scenario
    g, ids = build(types, edges, insertion)
    plan = make_plan(g, set(g), runnable)
    target(float(len(plan.batches)), label="batches")
    check_plan(g, set(g), runnable, plan)


@SETTINGS
@given(scenarios(), st.randoms(use_true_random=False))
def test_generated_plans_are_deterministic(scenario, rnd: random.Random) -> None:
    types, edges, insertion, chosen, runnable = scenario
    g, ids = build(types, edges, insertion)
    selected = [ids[i] for i in chosen]
    plan = make_plan(g, set(selected), runnable)
    shuffled = list(selected)
    rnd.shuffle(shuffled)
    assert make_plan(g, set(selected), runnable) == plan
    assert make_plan(g, shuffled, runnable) == plan
    assert make_plan(g, iter(shuffled), list(runnable)) == plan
    assert make_plan(g.copy(), tuple(selected), runnable) == plan

    # the assignment of nodes to batches and stages does not depend on insertion order
    g2, ids2 = build(types, edges, reversed(list(insertion)))
    assert ids2 == ids
    plan2 = make_plan(g2, set(selected), runnable)
    assert [set(b.nodes) for b in plan2.batches] == [set(b.nodes) for b in plan.batches]
    assert [b.needs_python for b in plan2.batches] == [b.needs_python for b in plan.batches]
    assert {(s.unique_id, s.stage, s.needs) for s in plan2.python} == {
        (s.unique_id, s.stage, s.needs) for s in plan.python
    }
    assert dict(plan2.needs) == dict(plan.needs)


@SETTINGS
@given(scenario=scenarios(), rnd=st.randoms(use_true_random=False))
def test_retry_plans_exactly_what_failed_or_was_skipped(tmp_path_factory, scenario,
                                                        rnd: random.Random) -> None:
    """A run's outcome drawn at random (a failure skips what is downstream), written as
    braid's run_results.json; ``braid retry``'s reading of it plans exactly the failed and
    skipped nodes, in an order that respects every dependency."""
    import json

    from dbt_braid.run.retry import last_run

    types, edges, insertion, chosen, runnable = scenario
    g, ids = build(types, edges, insertion)
    plan = make_plan(g, {ids[i] for i in chosen}, runnable)
    status: dict[str, str] = {}
    for uid in plan.order:
        upstream_bad = any(status.get(u) in ("error", "skipped") for u in plan.needs[uid])
        status[uid] = "skipped" if upstream_bad else rnd.choice(["success", "error"])
    root = tmp_path_factory.mktemp("retry")
    (root / "target" / "braid").mkdir(parents=True)
    (root / "target" / "braid" / "run_results.json").write_text(json.dumps({
        "args": {"command": "run", "argv": []},
        "results": [{"unique_id": u, "status": s} for u, s in status.items()]}))
    last = last_run(root)
    again = {u for u, s in status.items() if s != "success"}
    assert last.again == again
    retried = make_plan(g, set(last.again), runnable)
    assert set(retried.order) == again
    position = {u: i for i, u in enumerate(retried.order)}
    for u in again:
        for v in nx.descendants(g, u) & again:
            assert position[u] < position[v]


def test_brute_force_counts_crossings() -> None:
    # the helper itself, on a few paths written out
    assert crossings("d") == 0
    assert crossings("dpd") == 1
    assert crossings("ddppdd") == 1
    assert crossings("pdpdpdp") == 2
    assert crossings("ppp") == 0
    assert crossings("dppp") == 0


def test_all_small_python_dbt_dags_exhaustively() -> None:
    """Every DAG on 4 nodes (in a fixed topological order) with every kind assignment."""
    n = 4
    pairs = list(itertools.combinations(range(n), 2))
    count = 0
    for mask in range(1 << len(pairs)):
        edges = [p for k, p in enumerate(pairs) if mask >> k & 1]
        for kinds in itertools.product(("model", "python"), repeat=n):
            g, _ = build(list(kinds), edges, range(n))
            plan = make_plan(g, set(g))
            check_plan(g, set(g), ("model",), plan)
            count += 1
    assert count == 64 * 16


# ------------------------------------------------------------------------------ size


def test_large_graph_plans() -> None:
    rnd = random.Random(20240611)
    total, n_python, n_sources = 10_000, 500, 300
    g = nx.DiGraph()
    python_at = set(rnd.sample(range(n_sources, total), n_python))
    ids: list[str] = []
    for i in range(total):
        if i < n_sources:
            uid = add_dbt(g, f"src{i}", "source")
        elif i in python_at:
            uid = add_py(g, f"py{i}")
        elif rnd.random() < 0.1:
            uid = add_dbt(g, f"t{i}", "test")
        else:
            uid = add_dbt(g, f"m{i}", folder=(f"f{i % 7}",))
        ids.append(uid)
        if i >= n_sources:
            for _ in range(rnd.randint(1, 3)):
                j = rnd.randrange(max(0, i - 400), i)
                if g.nodes[ids[j]]["resource_type"] not in ("test", "exposure"):
                    g.add_edge(ids[j], uid)
    assert g.number_of_nodes() == total

    plan = make_plan(g, set(g))
    planned = expected_planned(g, set(g), ("model",))
    assert len(plan.order) == len(planned)
    assert len(plan.python) == n_python
    assert sorted(plan.order) == sorted(planned)
    assert len(plan.batches) == batch_lower_bound(g, planned)
    assert len(plan.batches) > 1

    # direct edges between planned nodes (transitive ones follow by induction)
    batch = {u: b.index for b in plan.batches for u in b.nodes}
    stage = {s.unique_id: s.stage for s in plan.python}
    for v in planned:
        for u in plan.needs[v]:
            if u in batch and v in batch:
                assert batch[u] <= batch[v]
            elif u in batch:
                assert stage[v] > batch[u]
            elif v in batch:
                assert batch[v] >= stage[u]
                assert u in plan.batches[batch[v]].needs_python
            else:
                assert stage[u] <= stage[v]


def test_models_feeding_python_are_not_deferred_behind_a_loader() -> None:
    g = nx.DiGraph()
    loader, feeds, train, after, other = (
        add_py(g, "loader"),
        add_dbt(g, "feeds"),
        add_py(g, "train"),
        add_dbt(g, "after"),
        add_dbt(g, "other"),
    )
    g.add_edges_from([(loader, feeds), (feeds, train), (train, after), (loader, other)])
    plan = make_plan(g, set(g))
    check_plan(g, set(g), ("model",), plan)
    # `feeds` has Python below it: moving it later would delay `train`, so it stays in
    # batch 0 (which then waits for the loader); `other` has nothing below and moves
    assert plan.batches[0].nodes == (feeds,)
    assert plan.batches[0].needs_python == {loader}
    assert set(plan.batches[1].nodes) == {after, other}


def test_deferral_never_adds_a_batch() -> None:
    g = nx.DiGraph()
    loader, m = add_py(g, "loader"), add_dbt(g, "m")
    g.add_edge(loader, m)
    plan = make_plan(g, set(g))
    assert len(plan.batches) == 1 and plan.batches[0].needs_python == {loader}


# ------------------------------------------------------------- plans that use history


def loader_scenario() -> tuple[nx.DiGraph, dict[str, str]]:
    """BENCHMARKS.md's 1.6x case: a Python loader with no dbt inputs read by ``m1``, and a
    slow model that does not read it, both in the one batch of the fewest-invocations plan."""
    g = nx.DiGraph()
    n = {"loader": add_py(g, "loader"), "m1": add_dbt(g, "m1"), "slow": add_dbt(g, "slow"),
         "after": add_dbt(g, "after")}
    g.add_edge(n["loader"], n["m1"])
    g.add_edge(n["m1"], n["after"])
    return g, n


def test_history_splits_a_batch_when_waiting_costs_more_than_an_invocation() -> None:
    g, n = loader_scenario()
    fewest = make_plan(g, set(g))
    assert [set(b.nodes) for b in fewest.batches] == [{n["m1"], n["slow"], n["after"]}]
    durations = {n["loader"]: 2.0, n["m1"]: 0.1, n["slow"]: 3.5, n["after"]: 0.1}
    # one batch waiting for the loader: 2.0 + 0.5 + 3.5
    assert simulate(fewest, durations, 0.5) == pytest.approx(6.0)
    timed = refine(fewest, durations, 0.5)
    assert [set(b.nodes) for b in timed.plan.batches] == [{n["slow"]}, {n["m1"], n["after"]}]
    assert timed.plan.batches[0].needs_python == frozenset()
    assert timed.plan.batches[1].needs_python == {n["loader"]}
    # slow from 0.5 to 4.0; the loader done at 2.0; the second batch 4.0 + 0.5 + 0.2
    assert timed.estimate == pytest.approx(4.7) and timed.fewest == pytest.approx(6.0)
    check_plan(g, set(g), ("model",), timed.plan, minimal=False)
    assert timed.reasons[0].startswith("dbt batch 1 of 2 (1 nodes): split off from the next "
                                       "batch: 1 of its 3 nodes need none of the Python assets "
                                       f"it waits for ({n['loader']}, 2.0 s in history)")
    assert timed.reasons[1] == (f"dbt batch 2 of 2 (2 nodes): waits for {n['loader']}: every "
                                "node of it needs one of them")


def test_a_plan_that_waits_for_no_python_asset_needs_no_history() -> None:
    g, n = loader_scenario()
    g.remove_edge(n["loader"], n["m1"])
    fewest = make_plan(g, set(g))
    timed = refine(fewest, {}, 0.5)
    assert timed.plan == fewest
    assert timed.reasons == ("dbt batch 1 of 1 (3 nodes): waits for no Python asset",)


def test_history_keeps_the_batch_when_the_wait_is_short_or_unknown() -> None:
    g, n = loader_scenario()
    fewest = make_plan(g, set(g))
    short = {n["loader"]: 0.2, n["m1"]: 0.1, n["slow"]: 3.5, n["after"]: 0.1}
    timed = refine(fewest, short, 0.5)
    assert timed.plan == fewest
    assert "kept whole" in timed.reasons[0] and "would not pay" in timed.reasons[0]
    unknown = {k: v for k, v in short.items() if k != n["slow"]}
    timed = refine(fewest, unknown, 0.5)
    assert timed.plan == fewest
    assert timed.reasons == (f"the fewest invocations (1): history has no duration for "
                             f"{n['slow']}",)


@SETTINGS
@given(scenarios(min_nodes=3, resource_types=["model", "python"], select_all=True),
       st.lists(st.floats(min_value=0.0, max_value=10.0), min_size=12, max_size=12),
       st.floats(min_value=0.0, max_value=2.0))
def test_generated_timed_plans_stay_valid_and_never_estimate_longer(scenario, seconds,
                                                                    cost) -> None:
    types, edges, insertion, chosen, runnable = scenario
    g, ids = build(types, edges, insertion)
    fewest = make_plan(g, set(g), runnable)
    durations = {uid: seconds[i] for i, uid in enumerate(ids)}
    timed = refine(fewest, durations, cost)
    check_plan(g, set(g), runnable, timed.plan, minimal=False)
    assert simulate(timed.plan, durations, cost) <= simulate(fewest, durations, cost) + 1e-9
    assert len(timed.reasons) == len(timed.plan.batches)


@SETTINGS
@given(scenarios(min_nodes=2, resource_types=["model", "python", "seed", "test"]),
       st.lists(st.floats(min_value=0.0, max_value=10.0), min_size=12, max_size=12),
       st.floats(min_value=0.0, max_value=2.0))
def test_the_estimate_starts_each_node_when_the_engines_rules_first_allow(scenario, seconds,
                                                                          cost) -> None:
    """``estimate`` and the engine share planning.rules: at each start the estimate gives,
    the rule allows it given what has ended by then, and not a moment sooner."""
    types, edges, insertion, chosen, runnable = scenario
    g, ids = build(types, edges, insertion)
    plan = make_plan(g, {ids[i] for i in chosen}, runnable)
    durations = {uid: seconds[i] for i, uid in enumerate(ids)}
    timed = refine(plan, durations, cost).plan
    for planned in (plan, timed):
        spans = estimate(planned, durations, cost)
        assert set(spans.nodes) == set(planned.order)

        def ended_by(moment: float, spans=spans) -> set[str]:
            return {u for u, (_, end) in spans.nodes.items() if end <= moment + 1e-9}

        for step in planned.python:
            start = spans.nodes[step.unique_id][0]
            assert python_may_start(step, ended_by(start))
            assert start == pytest.approx(max([spans.nodes[n][1] for n in step.needs] + [0.0]))
        previous_end = 0.0
        for batch, start in zip(planned.batches, spans.batches, strict=True):
            assert batch_may_start(batch, ended_by(start))
            earliest = max([previous_end] + [spans.nodes[p][1] for p in batch.needs_python])
            assert start == pytest.approx(earliest)
            for uid in batch.nodes:
                begin, end = spans.nodes[uid]
                assert begin >= start + cost - 1e-9
                assert all(spans.nodes[n][1] <= begin + 1e-9 for n in planned.needs.get(uid, ()))
                assert end == pytest.approx(begin + durations[uid])
            previous_end = max([start + cost] + [spans.nodes[u][1] for u in batch.nodes])
