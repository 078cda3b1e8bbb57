"""Writing a DataFrame through braid's ``table`` IO managers vs the warehouse's own fast path.

One frame of N rows (integers, floats, text, a date, a timestamp, a boolean), written
again and again in alternating order:

- PostgreSQL: braid's PostgresTableIO.store (Arrow CSV + COPY, atomic swap) against a
  plain psycopg2 COPY of the same frame (``create table`` + ``df.to_csv`` + ``copy_expert``).
- DuckDB: braid's DuckDBTableIO.store (Arrow scan inside a transaction) against a native
  ``create table ... as select * from arrow_table`` (the frame converted with
  ``pa.Table.from_pandas`` and registered), on the same file.

Ratios are baseline time / braid time (>= 1: braid is faster), from medians. PostgreSQL is
the server named by BRAID_PG_HOST/BRAID_PG_PORT, else a throwaway one (tests/pgserver.py).

    .venv/bin/python bench/bench_table_io.py --rows 1000000 --rounds 5
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

import pgserver  # noqa: E402
from dbt_braid.core.assets import PythonAsset, Relation  # noqa: E402
from dbt_braid.core.loader import FunctionRef  # noqa: E402
from dbt_braid.io.base import IOEnv  # noqa: E402
from dbt_braid.io.duckdb_table import DuckDBTableIO  # noqa: E402
from dbt_braid.io.postgres_table import PostgresTableIO  # noqa: E402


def frame(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame({
        "id": np.arange(n, dtype="int64"),
        "amount": rng.normal(100, 30, n).round(2),
        "score": rng.random(n),
        "label": pd.Series(rng.choice(["alpha", "beta", "gamma, delta", 'q"uote'], n)),
        "day": pd.to_datetime("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, n), "D"),
        "at": pd.to_datetime("2024-01-01") + pd.to_timedelta(rng.integers(0, 10**9, n), "s"),
        "flag": rng.random(n) > 0.5,
    }).assign(day=lambda f: f["day"].dt.date)


def asset(relation: Relation) -> PythonAsset:
    return PythonAsset(
        name=relation.identifier, unique_id=f"python.bench.{relation.identifier}",
        package_name="bench", kind="source", declared_by="source.bench.s.t", yaml_file="b.yml",
        python="b.f", module_file="b.py", function_ref=FunctionRef.of(lambda: None),
        relation=relation, source_name="s")


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def compare(name: str, braid: Callable[[], object], base: Callable[[], object],
            rounds: int) -> None:
    braid(), base()  # warm up: connections, imports, first table creation
    braid_times, base_times = [], []
    for i in range(rounds):
        pair = [(braid_times, braid), (base_times, base)]
        for times, fn in pair if i % 2 == 0 else pair[::-1]:
            times.append(timed(fn))
    b, p = statistics.median(braid_times), statistics.median(base_times)
    print(f"{name}: braid median {b:.2f} s, baseline median {p:.2f} s, "
          f"baseline/braid = {p / b:.2f} ({rounds} rounds each)")


def bench_postgres(df: pd.DataFrame, rounds: int) -> None:
    from dbt.adapters.postgres.connections import PostgresCredentials

    server = pgserver.start()
    try:
        db = server.create_database("braid_bench")
        creds = PostgresCredentials(host=server.host, port=server.port, user=server.user,
                                    password=server.password, database=db, schema="public")
        manager = PostgresTableIO(IOEnv(REPO, {}, "postgres", creds))
        target = asset(Relation(db, "bench", "braid_frame"))

        def plain_copy() -> None:
            con = server.connect(db, autocommit=False)
            try:
                cur = con.cursor()
                cur.execute("drop table if exists bench.plain_frame")
                cur.execute("create table bench.plain_frame (id bigint, amount double precision,"
                            " score double precision, label text, day date, at timestamp,"
                            " flag boolean)")
                buffer = io.StringIO()
                df.to_csv(buffer, index=False, header=False)
                buffer.seek(0)
                cur.copy_expert("copy bench.plain_frame from stdin with (format csv)", buffer)
                con.commit()
            finally:
                con.close()

        con = server.connect(db)
        con.cursor().execute("create schema if not exists bench")
        con.close()
        compare(f"PostgreSQL, {len(df):,} rows", lambda: manager.store(target, df), plain_copy,
                rounds)
    finally:
        server.stop()


def bench_duckdb(df: pd.DataFrame, rounds: int) -> None:
    from dbt.adapters.duckdb.credentials import DuckDBCredentials

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.duckdb"
        creds = DuckDBCredentials(path=str(path), schema="main", database="bench")
        manager = DuckDBTableIO(creds)
        target = asset(Relation("bench", "main", "braid_frame"))
        native = duckdb.connect(str(path))

        def native_ctas() -> None:
            arrow_table = pa.Table.from_pandas(df, preserve_index=False)
            native.register("arrow_table", arrow_table)
            native.execute("create or replace table plain_frame as select * from arrow_table")
            native.unregister("arrow_table")

        try:
            compare(f"DuckDB, {len(df):,} rows", lambda: manager.store(target, df), native_ctas,
                    rounds)
        finally:
            native.close()
            manager.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", choices=["postgres", "duckdb"])
    args = parser.parse_args()
    df = frame(args.rows)
    if args.only != "duckdb":
        bench_postgres(df, args.rounds)
    if args.only != "postgres":
        bench_duckdb(df, args.rounds)


if __name__ == "__main__":
    main()
