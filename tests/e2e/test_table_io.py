"""The ``table`` IO managers against real warehouses: DuckDB files and a PostgreSQL server.

Each manager is built the way a run builds it (from the registry, with dbt's own
credentials objects) and exercised directly: types round-trip, awkward identifiers
round-trip, a failed write leaves the old table, views on a table survive a rewrite.
The PostgreSQL manager (COPY) and the generic one (any adapter, DB-API) are both run on
PostgreSQL; the generic one on DuckDB too, as the second adapter it must serve.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
from dbt_braid.core.assets import PythonAsset, Relation
from dbt_braid.core.loader import FunctionRef
from dbt_braid.io.base import IOEnv, StoredRef, collect_io_managers
from dbt_braid.io.duckdb_table import DuckDBTableIO
from dbt_braid.io.generic_table import GenericTableIO
from dbt_braid.io.postgres_table import PostgresTableIO
from dbt_braid.plugin_host import get_plugin_manager

AWKWARD = [
    ("plain_schema", "plain_table"),
    ("Mixed Case", "Table With Spaces"),
    ('quote"schema', 'it"s here'),
]


def pg_credentials(server: Any, dbname: str) -> Any:
    from dbt.adapters.postgres.connections import PostgresCredentials

    return PostgresCredentials(host=server.host, port=server.port, user=server.user,
                               password=server.password, database=dbname, schema="public")


def duckdb_credentials(path: Path) -> Any:
    from dbt.adapters.duckdb.credentials import DuckDBCredentials

    return DuckDBCredentials(path=str(path), schema="main", database=path.stem)


def env_for(adapter_type: str, credentials: Any, tmp_path: Path) -> IOEnv:
    return IOEnv(tmp_path, {}, adapter_type, credentials)


@pytest.fixture
def managers(request, tmp_path: Path) -> Callable[[str], tuple[Any, Callable[[str], list]]]:
    """``managers(kind)``: an IO manager of that kind and a ``sql(query)`` to check with."""

    def make(kind: str) -> tuple[Any, Callable[[str], list], str | None]:
        if kind.endswith("postgres"):
            server = request.getfixturevalue("pg_server")
            dbname = request.getfixturevalue("pg_database")
            env = env_for("postgres", pg_credentials(server, dbname), tmp_path)
            manager = PostgresTableIO(env) if kind == "postgres" else GenericTableIO(env)

            def sql(query: str) -> list:
                con = server.connect(dbname)
                try:
                    cur = con.cursor()
                    cur.execute(query)
                    return cur.fetchall() if cur.description else []
                finally:
                    con.close()

            return manager, sql, dbname
        path = tmp_path / "w.duckdb"
        env = env_for("duckdb", duckdb_credentials(path), tmp_path)
        manager = DuckDBTableIO(env.credentials) if kind == "duckdb" else GenericTableIO(env)

        def dsql(query: str) -> list:
            import duckdb

            con = duckdb.connect(str(path))
            try:
                return con.execute(query).fetchall()
            finally:
                con.close()

        return manager, dsql, "w"

    return make


def asset(relation: Relation) -> PythonAsset:
    return PythonAsset(
        name=relation.identifier, unique_id=f"python.p.{relation.identifier}", package_name="p",
        kind="source", declared_by="source.p.s.t", yaml_file="m.yml", python="m.f",
        module_file="m.py", function_ref=FunctionRef.of(lambda: None), relation=relation,
        source_name="s")


def ref(relation: Relation) -> StoredRef:
    return StoredRef(f"python.p.{relation.identifier}", relation.identifier, "p", relation)


def sample_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "id": pd.array([1, 2, 3], dtype="int64"),
        "amount": [1.5, -2.25, 1e10],
        "label": ["plain", 'has "quotes", commas\nand a newline', ""],
        "maybe": pd.array(["x", None, "z"], dtype="string"),
        "flag": [True, False, True],
        "day": [dt.date(2024, 1, 1), dt.date(1999, 12, 31), dt.date(2030, 6, 15)],
        "at": pd.to_datetime(["2024-01-01 10:00:00.123456", "2024-02-29 23:59:59.000000",
                              "1970-01-01 00:00:00.000000"]),
        "Mixed Case Col": [10, 20, 30],
    })


ALL = ["duckdb", "postgres", "generic-postgres", "generic-duckdb"]


@pytest.mark.parametrize("kind", ALL)
def test_frame_round_trips_with_types(managers, kind: str) -> None:
    manager, _sql, db = managers(kind)
    relation = Relation(db, "io_test", "roundtrip")
    frame = sample_frame()
    assert manager.store(asset(relation), frame) == 3
    back = manager.load(ref(relation))
    assert list(back.columns) == list(frame.columns)
    assert back["id"].tolist() == [1, 2, 3]
    assert back["amount"].tolist() == [1.5, -2.25, 1e10]
    assert back["label"].tolist() == frame["label"].tolist()  # '' stays '', not NULL
    assert back["maybe"].isna().tolist() == [False, True, False]
    assert back["flag"].tolist() == [True, False, True]
    assert [pd.Timestamp(d).date() for d in back["day"]] == frame["day"].tolist()
    assert [pd.Timestamp(t) for t in back["at"]] == list(frame["at"])
    assert back["Mixed Case Col"].tolist() == [10, 20, 30]
    # the other frame types on request
    arrow = manager.load(ref(relation), annotation="pa.Table")
    assert isinstance(arrow, pa.Table) and arrow.num_rows == 3
    polars = manager.load(ref(relation), annotation="pl.DataFrame")
    assert type(polars).__module__.startswith("polars") and polars.height == 3


@pytest.mark.parametrize("kind", ALL)
@pytest.mark.parametrize(("schema", "table"), AWKWARD)
def test_awkward_identifiers_round_trip(managers, kind: str, schema: str, table: str) -> None:
    manager, sql, db = managers(kind)
    relation = Relation(db, schema, table)
    assert manager.store(asset(relation), pd.DataFrame({"v": [1, 2]})) == 2
    assert manager.store(asset(relation), pd.DataFrame({"v": [3, 4, 5]})) == 3
    assert manager.load(ref(relation))["v"].tolist() == [3, 4, 5]
    found = sql("select table_schema, table_name from information_schema.tables "
                "where table_schema not in ('pg_catalog', 'information_schema')")
    assert (schema, table) in {tuple(r) for r in found}
    # no leftovers from the swap
    assert [r for r in found if r[1].startswith("braid_new_")] == []


@pytest.mark.parametrize("kind", ALL)
def test_rewrite_with_new_columns_replaces_table(managers, kind: str) -> None:
    manager, _sql, db = managers(kind)
    relation = Relation(db, "io_test", "changing")
    manager.store(asset(relation), pd.DataFrame({"a": [1]}))
    manager.store(asset(relation), pd.DataFrame({"b": ["x", "y"], "c": [1.0, 2.0]}))
    back = manager.load(ref(relation))
    assert list(back.columns) == ["b", "c"] and back["b"].tolist() == ["x", "y"]


def failing_stream(first: pd.DataFrame) -> pa.RecordBatchReader:
    """An Arrow stream whose second batch raises: the asset failed half-way through."""
    batch = pa.RecordBatch.from_pandas(first, preserve_index=False)

    def gen():
        yield batch
        raise RuntimeError("the asset broke half-way through its rows")

    return pa.RecordBatchReader.from_batches(batch.schema, gen())


@pytest.mark.parametrize("kind", ALL)
@pytest.mark.parametrize("same_columns", [True, False])
def test_failed_write_keeps_old_table(managers, kind: str, same_columns: bool) -> None:
    manager, sql, db = managers(kind)
    relation = Relation(db, "io_test", "kept")
    manager.store(asset(relation), pd.DataFrame({"v": [1, 2, 3]}))
    new = pd.DataFrame({"v": [7, 8]} if same_columns else {"w": ["a", "b"]})
    # DuckDB wraps the asset's exception in its own; the message is kept
    with pytest.raises(Exception, match="half-way"):
        manager.store(asset(relation), failing_stream(new))
    assert manager.load(ref(relation))["v"].tolist() == [1, 2, 3]
    leftovers = sql("select table_name from information_schema.tables "
                    "where table_name like 'braid_new_%'")
    assert leftovers == []


def test_postgres_rewrite_keeps_dependent_views(managers) -> None:
    manager, sql, db = managers("postgres")
    relation = Relation(db, "io_test", "viewed")
    manager.store(asset(relation), pd.DataFrame({"v": [1, 2]}))
    sql('create view io_test.v_viewed as select sum(v) as total from io_test.viewed')
    manager.store(asset(relation), pd.DataFrame({"v": [10, 20, 30]}))
    assert sql("select total from io_test.v_viewed") == [(60,)]


def test_postgres_write_killed_mid_copy_keeps_old_table(managers, tmp_path: Path) -> None:
    """SIGKILL while COPY streams rows: the server never sees a commit."""
    manager, sql, db = managers("postgres")
    relation = Relation(db, "io_test", "killed")
    manager.store(asset(relation), pd.DataFrame({"v": [1, 2, 3]}))
    creds = manager.credentials
    script = tmp_path / "writer.py"
    script.write_text(textwrap.dedent(f"""
        import sys, time
        import pyarrow as pa
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_table_io import asset
        from dbt.adapters.postgres.connections import PostgresCredentials
        from dbt_braid.core.assets import Relation
        from dbt_braid.io.base import IOEnv
        from dbt_braid.io.postgres_table import PostgresTableIO
        import dbt_braid.io.postgres_table as pt
        pt.COPY_BATCH = 1000
        creds = PostgresCredentials(host={creds.host!r}, port={creds.port}, user={creds.user!r},
                                    password="", database={db!r}, schema="public")
        io = PostgresTableIO(IOEnv(None, {{}}, "postgres", creds))
        schema = pa.schema([("v", pa.int64())])
        def batches():
            for i in range(10**6):
                if i == 3:
                    print("copying", flush=True)
                    time.sleep(60)
                yield pa.record_batch([pa.array(range(1000), pa.int64())], schema=schema)
        io.store(asset(Relation({db!r}, "io_test", "killed")),
                 pa.RecordBatchReader.from_batches(schema, batches()))
    """))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "copying"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert manager.load(ref(relation))["v"].tolist() == [1, 2, 3]


def test_registry_picks_the_manager_for_the_adapter(pg_server, pg_database, tmp_path) -> None:
    registry = collect_io_managers(get_plugin_manager())
    pg = registry.build(env_for("postgres", pg_credentials(pg_server, pg_database), tmp_path))
    duck = registry.build(env_for("duckdb", duckdb_credentials(tmp_path / "x.duckdb"), tmp_path))
    assert type(pg["table"]) is PostgresTableIO
    assert type(duck["table"]) is DuckDBTableIO
    assert registry.writes_table()["table"] is True


def test_unsupported_column_type_is_a_clear_error(managers) -> None:
    manager, _sql, db = managers("postgres")
    frame = pa.table({"blob": pa.array([[1, 2], [3]])})
    with pytest.raises(TypeError, match="list"):
        manager.store(asset(Relation(db, "io_test", "lists")), frame)


ODD_PROJECT = {
    "profiles.yml": """
        odd:
          target: duckdb
          outputs:
            duckdb:
              type: duckdb
              path: "{{ env_var('BRAID_TEST_DB') }}"
            postgres:
              type: postgres
              host: "{{ env_var('BRAID_PG_HOST', '127.0.0.1') }}"
              port: "{{ env_var('BRAID_PG_PORT', '5432') | as_number }}"
              user: "{{ env_var('BRAID_PG_USER', 'postgres') }}"
              password: "{{ env_var('BRAID_PG_PASSWORD', '') }}"
              dbname: "{{ env_var('BRAID_PG_DATABASE', 'test') }}"
              schema: public
        """,
    "models/sources.yml": """
        version: 2
        sources:
          - name: odd
            schema: Mixed Schema
            quoting: {database: true, schema: true, identifier: true}
            tables:
              - name: odd_table
                identifier: Odd Table Name
                config: {meta: {braid: {python: make.odd}}}
        """,
    "python_assets/make.py": """
        import pandas as pd


        def odd():
            return pd.DataFrame({"Value": [1, 2, 3], "with space": ["a", "b", "c"]})
        """,
    "models/reader.sql": """
        {{ config(materialized='table') }}
        select sum("Value") as total, count("with space") as n from {{ source('odd', 'odd_table') }}
        """,
}


@pytest.mark.parametrize("target", ["duckdb", "postgres"])
def test_mixed_case_and_spaced_names_reach_dbt_models(make_project, request, target) -> None:
    """A Python asset writes a source whose schema and table names need quoting; the dbt
    model downstream reads it through source() on both warehouses."""
    env = {}
    if target == "postgres":
        server = request.getfixturevalue("pg_server")
        env = server.env(request.getfixturevalue("pg_database"))
    project = make_project(ODD_PROJECT, name="odd")
    done = project.braid("run", "--target", target, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((project.root / "target/braid/run_results.json").read_text())
    assert {r["name"]: r["status"] for r in results["results"]} == {
        "odd_table": "success", "reader": "success"}
    query = 'select total, n from reader'
    if target == "postgres":
        con = server.connect(env["BRAID_PG_DATABASE"])
        try:
            cur = con.cursor()
            cur.execute(query)
            rows = cur.fetchall()
        finally:
            con.close()
    else:
        rows = project.sql(query)
    assert rows == [(6, 3)]


def test_postgres_profile_with_autocommit_true(pg_server, pg_database, tmp_path) -> None:
    """dbt-postgres's ``autocommit: true`` opens connections in autocommit mode; writes are
    still one transaction and reads still typed."""
    credentials = pg_credentials(pg_server, pg_database)
    credentials.autocommit = True
    manager = PostgresTableIO(env_for("postgres", credentials, tmp_path))
    relation = Relation(pg_database, "io_test", "auto")
    manager.store(asset(relation), pd.DataFrame({"v": [1, 2, 3]}))
    with pytest.raises(Exception, match="half-way"):
        manager.store(asset(relation), failing_stream(pd.DataFrame({"v": [7]})))
    back = manager.load(ref(relation))
    assert back["v"].tolist() == [1, 2, 3] and str(back["v"].dtype) == "int64"
