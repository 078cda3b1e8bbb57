"""Parallel Python: makespan of a run against its critical path.

1. Eight independent Python assets that each take 1 s, ``braid run --threads 8``.
2. A mixed graph: a quick model ``base`` and a slow model ``slow`` (a DuckDB query of a few
   seconds) in the first dbt batch; a 2 s Python asset reading ``base``; a model reading the
   asset and ``slow`` (second batch); a Python asset after ``slow``. The 2 s asset should
   run while ``slow`` does (it starts when dbt reports ``base`` finished).

3. A loader: a 2 s Python asset with no dbt inputs, read by a quick model, beside a slow
   model that does not read it (BENCHMARKS.md's 1.6x case). The fewest-invocations plan
   makes the one batch wait for the loader; with history (every run after the first) the
   planner runs the slow model in a batch of its own meanwhile (planning.timing). The first
   run, without history, is reported apart.

Makespan = last completion - first start (run_results.json); critical path = the longest
path through the graph weighted by each node's own measured execution time. Goal: makespan
/ critical path <= 1.15.

    .venv/bin/python bench/bench_parallel.py --rounds 5
"""

from __future__ import annotations

import argparse
import json
import tempfile
import textwrap
from datetime import datetime
from pathlib import Path

import networkx as nx
from common import REPO, describe_machine, env, median, run, tool, write_small_project

INDEPENDENT = {
    "models/exposures.yml": "version: 2\nexposures:\n" + "".join(
        f"  - name: sleeper_{i}\n    type: application\n    owner: {{name: me}}\n"
        f"    config: {{meta: {{braid: {{python: work.sleep_one}}}}}}\n" for i in range(8)),
    "python_assets/work.py": "import time\n\n\ndef sleep_one():\n    time.sleep(1.0)\n"
                             "    return 1\n",
}

MIXED = {
    "models/slow.sql": "{{ config(materialized='table') }}\n"
                       "select sum(a.range * b.range) as s from range({n}) a, range({n}) b\n",
    "models/base.sql": "{{ config(materialized='table') }}\nselect 1 as x\n",
    "models/joined.sql": "{{ config(materialized='table') }}\n"
                         "select s, (select count(*) from {{ source('py', 'side') }}) as n "
                         "from {{ ref('slow') }}\n",
    "models/sources.yml": textwrap.dedent("""
        version: 2
        sources:
          - name: py
            tables:
              - name: side
                config: {meta: {braid: {python: work.side, depends_on: [base]}}}
        exposures:
          - name: after_slow
            type: application
            owner: {name: me}
            depends_on: [ref('slow')]
            config: {meta: {braid: {python: work.after}}}
        """),
    "python_assets/work.py": textwrap.dedent("""
        import time

        import pandas as pd


        def side(base):
            time.sleep(2.0)
            return pd.DataFrame({"x": [1, 2, 3]})


        def after(slow):
            time.sleep(0.5)
            return int(slow["s"].iloc[0])
        """),
}


LOADER = {
    # braid's dbt package keeps the history the planner reads
    "packages.yml": f"packages:\n  - local: {REPO}\n",
    "models/slow.sql": MIXED["models/slow.sql"],
    "models/reads_loader.sql": "{{ config(materialized='table') }}\n"
                               "select count(*) as n from {{ source('py', 'loader') }}\n",
    "models/sources.yml": textwrap.dedent("""
        version: 2
        sources:
          - name: py
            tables:
              - name: loader
                config: {meta: {braid: {python: work.loader}}}
        """),
    "python_assets/work.py": textwrap.dedent("""
        import time

        import pandas as pd


        def loader():
            time.sleep(2.0)
            return pd.DataFrame({"x": [1, 2, 3]})
        """),
}


def parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def measure(root: Path, environ: dict[str, str], threads: int,
            timeline: bool = False) -> tuple[float, float]:
    run([tool("braid"), "run", "--threads", str(threads)], root, environ)
    results = json.loads((root / "target/braid/run_results.json").read_text())["results"]
    lineage = json.loads((root / "target/braid/lineage.json").read_text())
    starts = [parse(r["started_at"]) for r in results if r["started_at"]]
    ends = [parse(r["completed_at"]) for r in results if r["completed_at"]]
    makespan = (max(ends) - min(starts)).total_seconds()
    if timeline:
        t0 = min(starts)
        for r in sorted(results, key=lambda r: r["started_at"] or ""):
            if r["started_at"]:
                print(f"  {r['name']:<14} {(parse(r['started_at']) - t0).total_seconds():6.2f}"
                      f" -> {(parse(r['completed_at']) - t0).total_seconds():6.2f} s"
                      f"  (own {r['execution_time']:.2f} s, invocation {r['invocation']})")
    own = {r["unique_id"]: r["execution_time"] for r in results}
    graph = nx.DiGraph()
    graph.add_nodes_from(own)
    graph.add_edges_from((e["from"], e["to"]) for e in lineage["edges"]
                         if e["from"] in own and e["to"] in own)
    longest: dict[str, float] = {}
    for node in nx.topological_sort(graph):
        longest[node] = own[node] + max((longest[p] for p in graph.predecessors(node)),
                                        default=0.0)
    return makespan, max(longest.values())


def scenario(name: str, files: dict[str, str], threads: int, rounds: int,
             timeline: bool = False) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "p"
        write_small_project(root, files, threads=8)
        environ = env(BRAID_BENCH_DB=str(Path(folder) / "b.duckdb"))
        if "packages.yml" in files:
            run([tool("braid"), "deps"], root, environ)
        makespan, critical = measure(root, environ, threads)  # warm-up
        print(f"{name}: first run (no history): makespan {makespan:.2f} s, critical path "
              f"{critical:.2f} s, ratio {makespan / critical:.3f}")
        pairs = [measure(root, environ, threads, timeline and i == rounds - 1)
                 for i in range(rounds)]
        ratios = [m / c for m, c in pairs]
        print(f"{name}: makespan median {median([m for m, _ in pairs]):.2f} s, critical path "
              f"median {median([c for _, c in pairs]):.2f} s, makespan/critical path median "
              f"{median(ratios):.3f} (rounds: {[round(r, 3) for r in ratios]})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--slow-n", type=int, default=30000,
                        help="the slow model crosses range(N) with itself")
    parser.add_argument("--timeline", action="store_true", help="print the last round's nodes")
    parser.add_argument("--scenario", nargs="+", choices=["independent", "mixed", "loader"],
                        default=["independent", "mixed", "loader"])
    args = parser.parse_args()
    print(describe_machine())
    if "independent" in args.scenario:
        scenario("8 independent 1 s assets, --threads 8", INDEPENDENT, 8, args.rounds,
                 args.timeline)
    if "mixed" in args.scenario:
        mixed = {k: v.replace("{n}", str(args.slow_n)) for k, v in MIXED.items()}
        scenario("mixed: a 2 s Python asset beside a slow dbt model, --threads 4", mixed, 4,
                 args.rounds, args.timeline)
    if "loader" in args.scenario:
        loader = {k: v.replace("{n}", str(args.slow_n)) for k, v in LOADER.items()}
        scenario("a 2 s loader read by a quick model, beside a slow model, --threads 4",
                 loader, 4, args.rounds, args.timeline)


if __name__ == "__main__":
    main()
