"""Plans that use history: split a dbt batch when waiting for a Python asset costs more than
one more dbt invocation.

The fewest-invocations plan (:mod:`dbt_braid.planning.batches`) can make a whole batch wait
for a Python asset that only some of its models read: a loader with no dbt inputs, say,
holds back a slow model that does not need it. Where history knows how long every node of
the plan takes, :func:`refine` estimates the run both ways with :func:`simulate` (the
engine's rules: batches one after another, each starting once the batch before it and the
Python assets it reads are done, one invocation costing ``batch_cost``; a node starting once
what it needs has finished) and splits a batch into the models that need none of the Python
assets it waits for (an earlier batch, started without waiting) and the rest, when the
estimate is shorter. Without a duration for each node involved it changes nothing.

Pure: the durations come in as a mapping (``dbt_braid.history.durations`` reads them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from dbt_braid.planning.batches import DbtBatch, Plan
from dbt_braid.planning.rules import python_may_start

#: seconds one more in-process dbt invocation costs: a fixed part and a part per node of
#: the manifest, fitted to bench/bench_batches.py (one model run again in a parsed project:
#: 0.16 s with 50 models, 0.41-0.45 s with 500, BENCHMARKS.md), rounded up so that a split
#: has to win clearly
BATCH_COST_FIXED = 0.15
BATCH_COST_PER_NODE = 0.0006
BATCH_COST = 0.5  # the default of the pure functions: a project of about 600 nodes


def batch_cost(manifest_nodes: int) -> float:
    """Estimated seconds of one more dbt invocation in a project of ``manifest_nodes``."""
    return BATCH_COST_FIXED + BATCH_COST_PER_NODE * max(0, manifest_nodes)


@dataclass(frozen=True)
class Timed:
    """The plan chosen, and one line per batch saying why it is what it is."""

    plan: Plan
    reasons: tuple[str, ...]
    #: the estimated makespan of the plan chosen and of the fewest-invocations one (None
    #: without durations)
    estimate: float | None = None
    fewest: float | None = None


@dataclass(frozen=True)
class Estimate:
    """When each node of a plan would run, by :mod:`dbt_braid.planning.rules`."""

    #: unique_id -> (start, end), seconds from the run's start
    nodes: Mapping[str, tuple[float, float]]
    #: each batch's start: its invocation (``batch_cost``) begins then
    batches: tuple[float, ...]

    @property
    def makespan(self) -> float:
        return max((end for _, end in self.nodes.values()), default=0.0)


def estimate(plan: Plan, durations: Mapping[str, float], batch_cost: float = BATCH_COST
             ) -> Estimate:
    """Each node's estimated start and end under the engine's rules
    (:mod:`dbt_braid.planning.rules`; enough dbt threads and Python workers assumed)."""
    spans: dict[str, tuple[float, float]] = {}
    finish: dict[str, float] = {}
    in_batch: dict[str, int] = {uid: b.index for b in plan.batches for uid in b.nodes}
    batch_end = 0.0
    starts: list[float] = []
    pending_python = {s.unique_id: s for s in plan.python}

    def run(uid: str, begin: float) -> None:
        finish[uid] = begin + durations[uid]
        spans[uid] = (begin, finish[uid])

    def start_python() -> None:
        moved = True
        while moved:
            moved = False
            for uid, step in list(pending_python.items()):
                if python_may_start(step, finish):
                    run(uid, max([finish[n] for n in step.needs] + [0.0]))
                    del pending_python[uid]
                    moved = True

    start_python()
    for batch in plan.batches:
        start_python()
        # the rules' batch_may_start: the batch before it has ended, and what it reads
        start = max([batch_end] + [finish[p] for p in batch.needs_python if p in finish])
        starts.append(start)
        ready = start + batch_cost
        for uid in plan.order:
            if in_batch.get(uid) == batch.index:
                run(uid, max([ready] + [finish[n] for n in plan.needs.get(uid, ())
                                        if n in finish]))
        batch_end = max([ready] + [finish[u] for u in batch.nodes])
        start_python()
    start_python()
    return Estimate(spans, tuple(starts))


def simulate(plan: Plan, durations: Mapping[str, float], batch_cost: float = BATCH_COST
             ) -> float:
    """Estimated seconds from the run's start to its last node's end (:func:`estimate`)."""
    return estimate(plan, durations, batch_cost).makespan


def _python_up(plan: Plan) -> dict[str, frozenset[str]]:
    """Each planned node's Python ancestors (through planned nodes)."""
    python = {s.unique_id for s in plan.python}
    up: dict[str, frozenset[str]] = {}
    for uid in plan.order:
        acc: set[str] = set()
        for need in plan.needs.get(uid, ()):
            acc |= up.get(need, frozenset())
            if need in python:
                acc.add(need)
        up[uid] = frozenset(acc)
    return up


def _split(plan: Plan, index: int, free: tuple[str, ...], waiting: tuple[str, ...],
           up: Mapping[str, frozenset[str]]) -> Plan:
    """``plan`` with batch ``index`` split in two: ``free`` first, then ``waiting``."""
    batches: list[DbtBatch] = []
    for batch in plan.batches:
        if batch.index != index:
            batches.append(replace(batch, index=len(batches)))
            continue
        for part in (free, waiting):
            needs = frozenset().union(*(up[u] for u in part))
            batches.append(DbtBatch(len(batches), part, needs))
    batch_of = {uid: b.index for b in batches for uid in b.nodes}
    stage_of: dict[str, int] = {}
    steps = []
    for step in plan.python:  # in dependency order
        stage = max([batch_of[p] + 1 for p in step.needs if p in batch_of]
                    + [stage_of[p] for p in step.needs if p in stage_of] + [0])
        stage_of[step.unique_id] = stage
        steps.append(replace(step, stage=stage))
    return replace(plan, batches=tuple(batches), python=tuple(steps))


def _seconds(value: float) -> str:
    return f"{value:.1f} s"


def refine(plan: Plan, durations: Mapping[str, float], batch_cost: float = BATCH_COST
           ) -> Timed:
    """The plan to run, given history's durations (see the module's text)."""
    if not plan.batches:
        return Timed(plan, ())
    if not any(batch.needs_python for batch in plan.batches):
        return Timed(plan, tuple(f"dbt batch {b.index + 1} of {len(plan.batches)} "
                                 f"({len(b.nodes)} nodes): waits for no Python asset"
                                 for b in plan.batches))
    missing = [u for u in plan.order if u not in durations]
    if missing:
        shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3
                                          else "")
        return Timed(plan, (f"the fewest invocations ({len(plan.batches)}): history has no "
                            f"duration for {shown}",))
    up = _python_up(plan)
    fewest = best = simulate(plan, durations, batch_cost)
    notes: dict[int, str] = {}
    index = 0
    while index < len(plan.batches):
        batch = plan.batches[index]
        earlier = frozenset().union(*(b.needs_python for b in plan.batches[:index]))
        waits = batch.needs_python - earlier
        free = tuple(u for u in batch.nodes if not up[u] & waits)
        held = tuple(u for u in batch.nodes if up[u] & waits)
        if waits and free and held:
            split = _split(plan, index, free, held, up)
            estimate = simulate(split, durations, batch_cost)
            longest = max(waits, key=lambda p: durations[p])
            why = (f"{len(free)} of its {len(batch.nodes)} nodes need none of the Python "
                   f"assets it waits for ({longest}, {_seconds(durations[longest])} in "
                   "history)")
            if estimate < best:
                notes[index] = (f"split off from the next batch: {why}; waiting would cost "
                                f"more than one more dbt invocation ({_seconds(batch_cost)}): "
                                f"estimated {_seconds(estimate)} instead of {_seconds(best)}")
                notes[index + 1] = (f"waits for {', '.join(sorted(waits))}: every node of it "
                                    "needs one of them")
                plan, best = split, estimate
                up = _python_up(plan)
                index += 2
                continue
            notes[index] = (f"kept whole: {why}, but one more dbt invocation "
                            f"({_seconds(batch_cost)}) would not pay (estimated "
                            f"{_seconds(estimate)} against {_seconds(best)})")
        elif waits:
            notes[index] = (f"waits for {', '.join(sorted(waits))}: every node of it needs "
                            "one of them")
        index += 1
    reasons = []
    for batch in plan.batches:
        what = f"dbt batch {batch.index + 1} of {len(plan.batches)} ({len(batch.nodes)} nodes)"
        reasons.append(f"{what}: {notes.get(batch.index, 'waits for no Python asset')}")
    return Timed(plan, tuple(reasons), best, fewest)
