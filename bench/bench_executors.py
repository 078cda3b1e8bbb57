"""CPU-bound Python assets on threads, processes and Dask; the Dask executor's overhead.

1. Four independent CPU-bound assets (pure Python, holding the GIL, about ``--work`` seconds
   each) in one ``braid run --threads 4`` per executor. Makespan = the assets' last
   completion - their first start (run_results.json); the ideal is the total work / cores,
   where the work is each call's own thread CPU time (measured inside the call). Goal:
   processes and Dask within 1.2x of it.
2. The integration project (integration_tests/, DuckDB): the whole ``braid run`` with
   ``--executor dask`` (a LocalCluster started for the run) against ``--executor threads``,
   alternating, after ``braid seed``.

    .venv/bin/python bench/bench_executors.py --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import textwrap
from datetime import datetime
from pathlib import Path

from common import (
    REPO,
    alternate,
    describe_machine,
    env,
    median,
    run,
    tool,
    write_small_project,
)


def cpu_files(loops: int) -> dict[str, str]:
    tables = "".join(f"              - name: cpu_{i}\n"
                     f"                config: {{meta: {{braid: {{python: work.burn}}}}}}\n"
                     for i in range(4))
    return {
        "models/sources.yml": "version: 2\nsources:\n  - name: py\n    schema: py\n"
                              "    tables:\n" + tables.replace("              ", "      "),
        "python_assets/work.py": textwrap.dedent(f"""
            import time

            import pandas as pd


            def burn():
                cpu = time.thread_time()
                total = 0
                for i in range({loops}):  # pure Python: the GIL is held throughout
                    total += i * i % 7
                return pd.DataFrame({{"total": [total],
                                      "cpu": [time.thread_time() - cpu]}})
            """),
    }


def parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def cpu_round(root: Path, environ: dict[str, str], executor: str) -> tuple[float, float]:
    """(makespan of the four assets, their total CPU work)."""
    run([tool("braid"), "run", "--executor", executor, "--threads", "4"], root, environ)
    results = json.loads((root / "target/braid/run_results.json").read_text())["results"]
    mine = [r for r in results if r["name"].startswith("cpu_")]
    assert len(mine) == 4 and all(r["status"] == "success" for r in mine), mine
    makespan = (max(parse(r["completed_at"]) for r in mine)
                - min(parse(r["started_at"]) for r in mine)).total_seconds()
    if os.environ.get("BENCH_TIMELINE"):
        t0 = min(parse(r["started_at"]) for r in mine)
        print("   ", executor, [(r["name"], round((parse(r["started_at"]) - t0).total_seconds(), 2),
                                 round((parse(r["completed_at"]) - t0).total_seconds(), 2))
                                for r in mine])
    import duckdb

    con = duckdb.connect(environ["BRAID_BENCH_DB"], read_only=True)
    try:
        work = sum(row[0] for row in con.execute(
            " union all ".join(f"select cpu from py.cpu_{i}" for i in range(4))).fetchall())
    finally:
        con.close()
    return makespan, work


def cpu_bound(rounds: int, loops: int, executors: list[str]) -> None:
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "p"
        write_small_project(root, cpu_files(loops), threads=4)
        environ = env(BRAID_BENCH_DB=str(Path(folder) / "b.duckdb"))
        print(f"four CPU-bound assets, --threads 4, {cores} cores:")
        print("| executor | makespan | total work / cores | ratio |")
        print("|---|---|---|---|")
        for executor in executors:
            cpu_round(root, environ, executor)  # warm-up
            pairs = [cpu_round(root, environ, executor) for _ in range(rounds)]
            makespan = median([m for m, _ in pairs])
            ideal = median([w / cores for _, w in pairs])
            ratios = [m / (w / cores) for m, w in pairs]
            print(f"| {executor} | {makespan:.2f} s | {ideal:.2f} s | **{median(ratios):.2f}** "
                  f"(rounds {', '.join(f'{r:.2f}' for r in ratios)}) |")


def dask_overhead(rounds: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "it"
        shutil.copytree(REPO / "integration_tests", root, ignore=shutil.ignore_patterns(
            "target", "dbt_packages", "logs", ".braid", "*.duckdb", "package-lock.yml"))
        (root / "packages.yml").write_text(f"packages:\n  - local: {REPO}\n")
        environ = env(BRAID_DUCKDB_PATH=str(Path(folder) / "it.duckdb"))
        flags = ["--profiles-dir", str(root)]
        run([tool("braid"), "deps", *flags], root, environ)
        run([tool("braid"), "seed", *flags], root, environ)
        times = alternate({
            executor: lambda executor=executor: run(
                [tool("braid"), "run", "--executor", executor, *flags], root, environ)
            for executor in ("threads", "dask")}, rounds)
        threads, dask = median(times["threads"]), median(times["dask"])
        print(f"integration project, whole braid run: threads {threads:.2f} s, dask "
              f"{dask:.2f} s, dask/threads {dask / threads:.2f} (rounds: threads "
              f"{[round(t, 2) for t in times['threads']]}, dask "
              f"{[round(t, 2) for t in times['dask']]})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--loops", type=int, default=25_000_000,
                        help="iterations of each asset's loop (about 3 s here)")
    parser.add_argument("--executors", nargs="+", default=["threads", "processes", "dask"])
    parser.add_argument("--skip-integration", action="store_true")
    args = parser.parse_args()
    print(describe_machine())
    cpu_bound(args.rounds, args.loops, args.executors)
    if not args.skip_integration:
        dask_overhead(args.rounds)


if __name__ == "__main__":
    main()
