"""No credential leaves braid (issue 14, point 7): a PostgreSQL profile with a password and
a DuckDB path carrying a token, every command a user runs, then every output searched:
console, logs, artifacts, OpenLineage events, the HTML page, the history tables."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from helpers import BRAID, copy_integration_project

PASSWORD = "pw-SeCrEt-4711"
TOKEN = "tok-SeCrEt-0815"


def _everything_written(root: Path, *more: Path) -> dict[Path, str]:
    texts: dict[Path, str] = {}
    for folder in (root, *more):
        files = [folder] if folder.is_file() else sorted(folder.rglob("*"))
        for path in files:
            if path.is_file() and path.suffix not in (".duckdb", ".wal", ".pkl", ".gpickle"):
                texts[path] = path.read_bytes().decode("utf-8", "replace")
    return texts


@pytest.mark.parametrize("target", ["duckdb", "postgres"])
def test_no_credential_in_any_output(tmp_path: Path, request: pytest.FixtureRequest,
                                     target: str) -> None:
    root = copy_integration_project(tmp_path / "it")
    events = tmp_path / "events.jsonl"
    config = tmp_path / "openlineage.yml"
    config.write_text(f"transport:\n  type: file\n  log_file_path: {events}\n  append: true\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENLINEAGE", "BRAID_"))}
    env.update({
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "BRAID_DUCKDB_PATH": str(tmp_path / f"it.duckdb?motherduck_token={TOKEN}"),
        "OPENLINEAGE_CONFIG": str(config),
    })
    if target == "postgres":
        pg = request.getfixturevalue("pg_server")
        database = pg.create_database("secrets")
        env.update(pg.env(database))
        env["BRAID_PG_PASSWORD"] = PASSWORD  # the test server trusts; dbt still holds it

    outputs: list[str] = []

    def braid(*args: str, expect: int = 0) -> None:
        done = subprocess.run([BRAID, *args, "--profiles-dir", str(root), "--target", target],
                              cwd=root, env=env, capture_output=True, text=True, timeout=600)
        outputs.append(done.stdout + done.stderr)
        assert done.returncode == expect, done.stdout + done.stderr

    braid("deps")
    braid("seed")
    # the whole project once, with dbt's and braid's debug lines: everything `braid run`
    # prints and writes, and more (tests, each statement, the connections)
    braid("build", "--debug")
    braid("ls", "--output", "json")
    braid("status")
    braid("history", "--output", "json")
    braid("lineage", "--format", "html")
    braid("catalog")
    braid("lineage", "--format", "openlineage")
    braid("lineage", "--format", "json")
    braid("run", "-s", "no_such_node")
    for text in outputs:
        assert PASSWORD not in text and TOKEN not in text, text
    written = _everything_written(root, *([events] if events.exists() else []))
    assert events.exists() and any(p.name == "dbt.log" for p in written)
    leaks = [str(p) for p, text in written.items() if PASSWORD in text or TOKEN in text]
    assert not leaks, leaks
    # the history tables, every column as text
    if target == "postgres":
        con = pg.connect(database)
        cur = con.cursor()
        cur.execute("select table_schema, table_name from information_schema.tables "
                    "where table_name in ('braid_runs', 'braid_node_runs')")
        tables = cur.fetchall()
        assert len(tables) == 2
        for schema, table in tables:
            cur.execute(f'select * from "{schema}"."{table}"')
            assert not [row for row in cur.fetchall() if PASSWORD in repr(row)]
        con.close()
    else:
        import duckdb

        con = duckdb.connect(env["BRAID_DUCKDB_PATH"], read_only=True)
        tables = con.execute("select table_schema, table_name from information_schema.tables "
                             "where table_name in ('braid_runs', 'braid_node_runs')").fetchall()
        assert len(tables) == 2
        for schema, table in tables:
            rows = con.execute(f'select * from "{schema}"."{table}"').fetchall()
            assert not [row for row in rows if TOKEN in repr(row)]
        con.close()
