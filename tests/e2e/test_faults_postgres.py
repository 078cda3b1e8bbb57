"""Faults reported as what they are (issue 14), on PostgreSQL: a connection that dies while
a Python asset's table is written.

The asset streams record batches; after its first batch has gone through COPY, the asset
itself terminates the backend doing the write (``pg_terminate_backend`` from a connection of
its own), as an administrator or a failover would. The user must be told what happened to
the connection, not what the clean-up found afterwards ("connection already closed"), and
the table from the run before must still hold its rows.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from dbt_braid.core.assets import Relation
from dbt_braid.io.generic_table import GenericTableIO
from dbt_braid.io.postgres_table import PostgresTableIO
from helpers import BRAID_PACKAGE, Project, pg_profile, pg_rows
from test_table_io import asset, env_for, pg_credentials, ref

PROFILE = pg_profile(threads=1)

SOURCES = """
    version: 2
    sources:
      - name: py
        schema: py
        tables:
          - name: stream
            config: {meta: {braid: {python: stream.make}}}
          - name: retried
            config: {meta: {braid: {python: stream.make, retries: {count: 2, delay: 0.1}}}}
    """

#: BRAID_TEST_KILL unset: three rows. Set: batches of rows, and after the first one the
#: backend writing them is terminated. BRAID_TEST_WIDE adds a column, so the write goes
#: through a new table swapped in (no truncate of the old one).
STREAM = """
    import os
    import time

    import psycopg2
    import pyarrow as pa


    def _terminate_the_writer():
        con = psycopg2.connect(
            host=os.environ["BRAID_PG_HOST"], port=os.environ["BRAID_PG_PORT"],
            user=os.environ["BRAID_PG_USER"], password=os.environ.get("BRAID_PG_PASSWORD", ""),
            dbname=os.environ["BRAID_PG_DATABASE"], application_name="braid-test-killer")
        con.autocommit = True
        cur = con.cursor()
        cur.execute(
            "select pid from pg_stat_activity where datname = current_database() "
            "and pid <> pg_backend_pid() and query ilike 'copy %'")
        pids = [pid for (pid,) in cur.fetchall()]
        assert pids, "no backend is writing with COPY"
        for pid in pids:
            cur.execute("select pg_terminate_backend(%s)", (pid,))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # gone for good before the next batch is sent
            cur.execute("select count(*) from pg_stat_activity where pid = any(%s)", (pids,))
            if cur.fetchone()[0] == 0:
                break
            time.sleep(0.05)
        con.close()


    def make():
        fields = [("id", pa.int64())]
        if os.environ.get("BRAID_TEST_WIDE"):
            fields.append(("extra", pa.string()))
        schema = pa.schema(fields)

        def rows(start, n):
            columns = [pa.array(range(start, start + n), pa.int64())]
            if len(fields) > 1:
                columns.append(pa.array([str(i) for i in range(n)], pa.string()))
            return pa.record_batch(columns, schema=schema)

        once = os.environ.get("BRAID_TEST_KILL_ONCE")  # a file: the kill has happened
        if once and os.path.exists(once):
            return pa.Table.from_batches([rows(i * 1000, 1000) for i in range(5)])
        if once:
            open(once, "w").close()
        elif not os.environ.get("BRAID_TEST_KILL"):
            return pa.Table.from_batches([rows(1, 3)])

        def batches():
            yield rows(0, 1000)
            _terminate_the_writer()  # the first batch went through COPY; now the writer dies
            for i in range(1, 5):
                yield rows(i * 1000, 1000)

        return pa.RecordBatchReader.from_batches(schema, batches())
    """


@pytest.fixture
def pg_project(make_project, pg_server, pg_database) -> tuple[Project, dict[str, str]]:
    project = make_project({
        "profiles.yml": PROFILE,
        **BRAID_PACKAGE,
        "models/sources.yml": SOURCES,
        "python_assets/stream.py": STREAM,
    })
    env = pg_server.env(pg_database)
    done = project.braid("deps", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    return project, env


def _names_the_cause(message: str) -> bool:
    """Whether ``message`` is psycopg2's error for the terminated backend, not the clean-up's.

    Which words libpq has depends on timing: when it reads the server's last message before
    noticing the closed socket, the administrator's termination; else only that the server
    closed the connection. Either is the cause; "connection already closed" is the rollback
    failing afterwards on the dead connection.
    """
    causes = ("terminating connection due to administrator command",
              "server closed the connection unexpectedly")
    return (any(cause in message for cause in causes)
            and "connection already closed" not in message)


@pytest.mark.parametrize("wide", [False, True], ids=["truncate-and-refill", "swap-new-table"])
def test_connection_killed_mid_write_reports_the_cause(
    pg_project, pg_server, pg_database, wide: bool
) -> None:
    project, env = pg_project
    first = project.braid("run", "-s", "python:stream", env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert pg_rows(pg_server, pg_database, "select id from py.stream order by id") == [
        (1,), (2,), (3,)]

    killed = {**env, "BRAID_TEST_KILL": "1", **({"BRAID_TEST_WIDE": "1"} if wide else {})}
    done = project.braid("run", "-s", "python:stream", env=killed)
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "connection already closed" not in output, output
    assert "Traceback" not in output, output
    (line,) = [ln for ln in output.splitlines() if "storing the result" in ln]
    assert _names_the_cause(line), output
    assert "in python asset stream" in output, output

    results = json.loads((project.root / "target/braid/run_results.json").read_text())
    (result,) = [r for r in results["results"] if r["name"] == "stream"]
    assert result["status"] == "error"
    assert _names_the_cause(result["message"]), result["message"]

    (recorded,) = pg_rows(pg_server, pg_database,
                        "select status, message from public.braid_node_runs "
                        f"where run_id = '{results['run_id']}' and name = 'stream'")
    assert recorded[0] == "error"
    assert _names_the_cause(recorded[1]), recorded[1]

    # nothing was committed: the old table, its rows and its columns, and no staging table
    assert pg_rows(pg_server, pg_database, "select id from py.stream order by id") == [
        (1,), (2,), (3,)]
    assert pg_rows(pg_server, pg_database,
                 "select column_name from information_schema.columns "
                 "where table_schema = 'py' and table_name = 'stream'") == [("id",)]
    assert pg_rows(pg_server, pg_database,
                 "select table_name from information_schema.tables "
                 "where table_schema = 'py'") == [("stream",)]


def _terminate_others(pg_server: Any, database: str) -> None:
    """Terminate every other client of ``database`` (here: only the writer), and wait until
    they are gone, so the write's next statement meets a dead connection."""
    con = pg_server.connect(database)
    try:
        cur = con.cursor()
        cur.execute("select pg_terminate_backend(pid) from pg_stat_activity where datname = "
                    "current_database() and pid <> pg_backend_pid() "
                    "and backend_type = 'client backend'")
        assert cur.fetchall(), "no writer to terminate"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            cur.execute("select count(*) from pg_stat_activity where datname = "
                        "current_database() and pid <> pg_backend_pid() "
                        "and backend_type = 'client backend'")
            if cur.fetchone()[0] == 0:
                return
            time.sleep(0.05)
        raise AssertionError("the writer's backend outlived pg_terminate_backend")
    finally:
        con.close()


@pytest.mark.parametrize("kind", ["postgres", "generic"])
def test_each_manager_raises_the_error_that_killed_the_write(
    pg_server, pg_database, tmp_path: Path, kind: str
) -> None:
    """Both managers that write PostgreSQL (COPY, and plain DB-API inserts) raise psycopg2's
    error for the lost connection, not the failed rollback's, and keep the old table."""
    import psycopg2

    env = env_for("postgres", pg_credentials(pg_server, pg_database), tmp_path)
    manager = PostgresTableIO(env) if kind == "postgres" else GenericTableIO(env)
    relation = Relation(pg_database, "io_test", "killed")
    manager.store(asset(relation), pa.table({"v": pa.array([1, 2, 3], pa.int64())}))
    schema = pa.schema([("v", pa.int64())])

    def batches() -> Iterator[pa.RecordBatch]:
        yield pa.record_batch([pa.array(range(1000), pa.int64())], schema=schema)
        _terminate_others(pg_server, pg_database)
        yield pa.record_batch([pa.array(range(1000), pa.int64())], schema=schema)

    with pytest.raises(psycopg2.OperationalError) as raised:
        manager.store(asset(relation), pa.RecordBatchReader.from_batches(schema, batches()))
    assert _names_the_cause(str(raised.value)), str(raised.value)
    assert manager.load(ref(relation))["v"].tolist() == [1, 2, 3]


def test_a_connection_lost_while_storing_is_retried_under_the_assets_policy(
    pg_project, pg_server, pg_database, tmp_path: Path
) -> None:
    """Issue 14, point 5: a transient connection error while storing is retried under the
    asset's ``retries``; both attempts are in history, and the table is the second one's."""
    project, env = pg_project
    done = project.braid("run", "-s", "python:retried",
                         env={**env, "BRAID_TEST_KILL_ONCE": str(tmp_path / "killed")})
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "braid: retried: attempt 1 of 3 failed (storing the result (table): " \
        "OperationalError" in output, output
    results = json.loads((project.root / "target/braid/run_results.json").read_text())
    recorded = pg_rows(pg_server, pg_database,
                     "select attempt, status, message from public.braid_node_runs "
                     f"where run_id = '{results['run_id']}' and name = 'retried' "
                     "order by attempt")
    assert [(a, s) for a, s, _ in recorded] == [(1, "retried"), (2, "success")], recorded
    assert _names_the_cause(recorded[0][2]), recorded
    assert pg_rows(pg_server, pg_database, "select count(*) from py.retried") == [(5000,)]
