"""Partitioned assets (issue 17): a year of daily windows, one new day against a full
recompute.

One DuckDB project, a model ``events`` of ``--rows-per-day`` rows for each day of 2025 (dbt's
``event_time``), and two Python assets computing the same per-day, per-customer features:

* ``whole``: unpartitioned, the whole year in one call, replacing the whole table (what a
  Python asset did before partitions);
* ``daily``: partitioned by day (``lookback: 0``), one window per call.

Sides, alternated round by round (bench/common.py), the clock at 2025-12-31 12:00 UTC:

* ``whole year, unpartitioned``: ``braid run -s python:whole``;
* ``365 windows (--full-refresh)``: ``braid run -s python:daily --full-refresh``;
* ``one new day``: ``braid run -s python:daily`` after history has every day but the last
  (the one-day side deletes its last day's history rows first, so each round computes
  exactly one window, as the morning run after a new day does).
"""

from __future__ import annotations

import argparse
import tempfile
import textwrap
from pathlib import Path

from common import REPO, alternate, describe_machine, env, median, run, tool

FUNCTION = '''
import math

import pandas as pd


def score(row) -> float:
    """Row-wise Python, as scoring code often is: a few dozen float operations a row."""
    x = row.amount / 100.0
    total = 0.0
    for k in range(1, 25):
        total += math.sin(x * k) / k
    return total


def features(events: pd.DataFrame) -> pd.DataFrame:
    """Per day and customer: events, amount, and the mean of a row-wise Python score."""
    events = events.assign(score=events.apply(score, axis=1))
    return events.groupby(["event_date", "customer_id"], as_index=False).agg(
        n=("amount", "size"), amount=("amount", "sum"), score=("score", "mean"))


def whole(events):
    return features(events)


def daily(events, start):
    return features(events)
'''


def make_project(root: Path, rows_per_day: int) -> None:
    files = {
        "dbt_project.yml": "name: bench\nversion: '1.0'\nconfig-version: 2\nprofile: bench\n",
        "profiles.yml": f"""
            bench:
              target: dev
              outputs:
                dev: {{type: duckdb, path: "{root / 'bench.duckdb'}", threads: 4}}
            """,
        "packages.yml": f"packages:\n  - local: {REPO}\n",
        "models/events.sql": f"""
            {{{{ config(materialized='table', event_time='event_date') }}}}
            select cast(d as date) as event_date, (i * 7919) % 500 as customer_id,
                   ((i * 104729) % 1000) / 10.0 as amount
            from range(date '2025-01-01', date '2026-01-01', interval 1 day) t(d),
                 range({rows_per_day}) s(i)
            """,
        "models/sources.yml": """
            version: 2
            sources:
              - name: py
                schema: py
                tables:
                  - name: whole
                    config: {meta: {braid: {python: feats.whole, depends_on: [events]}}}
                  - name: daily
                    config:
                      meta:
                        braid:
                          python: feats.daily
                          depends_on: [events]
                          partitions: {event_time: event_date, batch_size: day,
                                       begin: "2025-01-01", lookback: 0}
            """,
        "python_assets/feats.py": FUNCTION,
    }
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows-per-day", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="braid-bench-partitions-") as folder:
        root = Path(folder)
        make_project(root, args.rows_per_day)
        environ = env(BRAID_NOW="2025-12-31T12:00:00Z")
        flags = ["--profiles-dir", str(root), "--project-dir", str(root)]
        braid = tool("braid")
        run([braid, "deps", *flags], root, environ)
        run([braid, "run", "-s", "events", *flags], root, environ)

        def forget_last_day() -> None:
            import duckdb

            con = duckdb.connect(str(root / "bench.duckdb"))
            con.execute("delete from main.braid_node_runs where partition_key = '2025-12-31'")
            con.close()

        asset_times: dict[str, list[float]] = {}

        def timed(name: str, *extra: str) -> float:
            """The whole command's wall time; the asset's own time kept beside it."""
            import json

            wall = run([braid, "run", *extra, *flags], root, environ)
            results = json.loads((root / "target/braid/run_results.json").read_text())
            asset_times.setdefault(name, []).append(
                sum(r["execution_time"] for r in results["results"]))
            return wall

        def one_day() -> float:
            forget_last_day()
            return timed("one new day", "-s", "python:daily")

        sides = {
            "whole year, unpartitioned": lambda: timed("whole year, unpartitioned",
                                                       "-s", "python:whole"),
            "365 windows (--full-refresh)": lambda: timed(
                "365 windows (--full-refresh)", "-s", "python:daily", "--full-refresh"),
            "one new day": one_day,
        }
        times = alternate(sides, args.rounds)
        import duckdb

        con = duckdb.connect(str(root / "bench.duckdb"), read_only=True)
        same = con.execute("select count(*) from (select * from py.whole except "
                           "select * from py.daily)").fetchone()
        counts = con.execute("select (select count(*) from py.whole), "
                             "(select count(*) from py.daily)").fetchone()
        con.close()
    print(describe_machine())
    print(f"{args.rows_per_day} rows a day for 365 days; {args.rounds} rounds, medians")
    base = median(times["whole year, unpartitioned"])
    asset_base = median(asset_times["whole year, unpartitioned"])
    print(f"  {'':32s} {'command':>9s} {'ratio':>7s}   {'asset':>8s} {'ratio':>7s}")
    for name, values in times.items():
        own = median(asset_times[name])
        print(f"  {name:32s} {median(values):7.2f} s {median(values) / base:7.3f}   "
              f"{own:6.2f} s {own / asset_base:7.3f}")
    print("  (command: the whole braid run's wall time; asset: the asset's execution_time "
          "in run_results; ratios to the unpartitioned whole year)")
    assert counts is not None and same is not None
    print(f"tables agree: {counts[0]} and {counts[1]} rows, {same[0]} rows differ")


if __name__ == "__main__":
    main()
