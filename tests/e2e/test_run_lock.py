"""One run at a time per project and target, and a trace from a run's first second (issue 14,
points 3 and 4): real braid processes on DuckDB and PostgreSQL, a second run while the first
holds the target, and ``kill -9`` in the middle of a run.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import (
    BRAID,
    BRAID_PACKAGE,
    Project,
    copy_project,
    pg_profile,
    pg_rows,
    template_project,
)

#: a -> p (Python, writes py.p) -> hold (Python, waits until told to finish); other reads a
FILES = {
    **BRAID_PACKAGE,
    "models/a.sql": "{{ config(materialized='table') }} select 1 as id",
    "models/other.sql": "{{ config(materialized='table') }} select 2 as id",
    "models/sources.yml": """
        version: 2
        sources:
          - name: py
            schema: py
            tables:
              - name: p
                config: {meta: {braid: {python: work.make, depends_on: [a]}}}
        exposures:
          - name: hold
            type: ml
            owner: {name: me}
            config: {meta: {braid: {python: work.hold, depends_on: [py.p]}}}
        """,
    "python_assets/work.py": """
        import os
        import time
        from pathlib import Path


        def make(a):
            return a


        def hold(p):
            marker = os.environ.get("HOLD_MARKER")
            if marker:
                Path(marker).write_text("holding")
                release = Path(marker + ".release")
                deadline = time.monotonic() + 120
                while not release.exists() and time.monotonic() < deadline:
                    time.sleep(0.05)
            return {"rows": len(p)}
        """,
}

PG_PROFILE = pg_profile("dev", "main")


@pytest.fixture(scope="module")
def deployed(tmp_path_factory) -> Project:
    """FILES after ``braid deps`` (which reads no profile target), once for the module."""
    return template_project(tmp_path_factory, FILES, ("deps",))


@pytest.fixture(params=["duckdb", "postgres"])
def setup(request, deployed: Project, make_project
          ) -> tuple[Project, dict[str, str], Callable[[str], list]]:
    """The project on either warehouse, the environment its runs need, and a query runner."""
    project = copy_project(deployed, make_project)
    env: dict[str, str] = {}
    if request.param == "postgres":
        pg = request.getfixturevalue("pg_server")
        database = request.getfixturevalue("pg_database")
        env = pg.env(database)
        project.write({"profiles.yml": PG_PROFILE})

        def sql(query: str) -> list:
            return pg_rows(pg, database, query)
    else:
        sql = project.sql
    return project, env, sql


def start_holding(project: Project, marker: Path, env: dict[str, str], *args: str
                  ) -> subprocess.Popen[str]:
    """``braid run ARGS`` as a real process, returned once its asset ``hold`` is running."""
    full_env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
                "HOLD_MARKER": str(marker), **env}
    proc = subprocess.Popen([BRAID, "run", "--profiles-dir", str(project.root), "--project-dir",
                             str(project.root), *args], cwd=project.root, env=full_env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 180
    while not marker.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the asset never started"
        time.sleep(0.02)
    return proc


def test_a_second_run_on_the_target_is_refused_naming_the_holder(setup, tmp_path: Path
                                                                 ) -> None:
    project, env, sql = setup
    marker = tmp_path / "hold_marker"
    first = start_holding(project, marker, env, "-s", "+hold")
    try:
        for command in (["run", "-s", "other"], ["build", "-s", "other"]):
            began = time.monotonic()
            second = project.braid(*command, env=env)
            waited = time.monotonic() - began
            assert second.returncode == 2, second.stdout + second.stderr
            assert "Traceback" not in second.stdout + second.stderr
            lines = [line for line in second.stderr.splitlines() if line.strip()]
            assert len(lines) == 1, second.stderr
            line = lines[0]
            assert "target dev of project proj is being run by `braid run`" in line, line
            assert f"pid {first.pid} on {socket.gethostname()}" in line, line
            assert "started 20" in line and "UTC" in line, line
            assert waited < 60, waited  # refused at once, not after waiting for the first
    finally:
        Path(str(marker) + ".release").write_text("go")
        out, err = first.communicate(timeout=180)
    assert first.returncode == 0, out + err
    # the refused runs touched nothing: `other` was never built, one run is recorded
    assert ("other",) not in {(r[0],) for r in sql(
        "select table_name from information_schema.tables")}
    assert sql("select count(*), min(status) from main.braid_runs") == [(1, "success")]


def test_kill_9_leaves_an_abandoned_run_with_what_it_finished(setup, tmp_path: Path) -> None:
    project, env, sql = setup
    marker = tmp_path / "hold_marker"
    first = start_holding(project, marker, env, "-s", "+hold")
    time.sleep(1.0)  # a and p finished before hold started; their rows are written as they end
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=60)
    # braid history and braid status show the run as abandoned, with what it finished
    history = project.braid("history", "--output", "json", env=env)
    assert history.returncode == 0, history.stdout + history.stderr
    rows = [json.loads(line) for line in history.stdout.splitlines()]
    killed = [r for r in rows if r["kind"] == "run"]
    assert len(killed) == 1 and killed[0]["status"] == "abandoned", rows
    assert "2 nodes recorded" in killed[0]["message"], killed
    finished = {r["name"]: r["status"] for r in rows if r["run_id"] == killed[0]["run_id"]
                and r["kind"] != "run"}
    assert finished == {"a": "success", "p": "success"}, rows
    status = project.braid("status", env=env)
    assert status.returncode == 0, status.stdout + status.stderr
    assert "was abandoned" in status.stdout, status.stdout
    # the warehouse still says running until a run takes the target over
    assert sql("select status from main.braid_runs") == [("running",)]
    # the lock died with its holder: the next run takes it and records the dead one
    again = project.braid("run", "-s", "other", env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    runs = dict(sql("select run_id, status from main.braid_runs"))
    assert runs[killed[0]["run_id"]] == "abandoned"
    assert sorted(runs.values()) == ["abandoned", "success"]
    # and the table p wrote before the kill agrees with its record
    assert sql("select count(*) from py.p") == [(1,)]
