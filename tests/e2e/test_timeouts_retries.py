"""``timeout`` and ``retries`` of a Python asset (issue 14, point 5): real braid runs on
DuckDB, the history tables read back (the transient-error rule on real driver errors:
tests/unit/execution/test_transient_errors.py)."""

from __future__ import annotations

import json
import time

import pytest
from helpers import BRAID_PACKAGE, Project

FILES = {
    **BRAID_PACKAGE,
    "models/a.sql": "{{ config(materialized='table') }} select 1 as id",
    "models/reads_hang.sql": "{{ config(materialized='table') }} "
                             "select * from {{ source('py', 'hang') }}",
    "models/sources.yml": """
        version: 2
        sources:
          - name: py
            schema: py
            tables:
              - name: hang
                config: {meta: {braid: {python: work.hang, depends_on: [a], timeout: 2s}}}
              - name: blocked
                config: {meta: {braid: {python: work.blocked, timeout: 1, retries: 1}}}
              - name: flaky
                config: {meta: {braid: {python: work.flaky, depends_on: [a],
                                        retries: {count: 3, delay: 0.2, backoff: 2}}}}
              - name: broken
                config: {meta: {braid: {python: work.broken, retries: 1}}}
        exposures:
          - name: after_hang
            type: ml
            owner: {name: me}
            config: {meta: {braid: {python: work.after_hang, depends_on: [py.hang]}}}
        """,
    "python_assets/work.py": """
        import os
        import time
        from pathlib import Path

        import pandas as pd


        def hang(a):
            while True:  # a pure-Python loop: stopped when its time is up
                time.sleep(0.05)


        def blocked():
            time.sleep(60)  # blocked in C: abandoned, and the run does not wait for it
            return pd.DataFrame({"x": [1]})


        def flaky(a):
            counter = Path(os.environ["FLAKY_COUNTER"])
            tries = int(counter.read_text()) + 1 if counter.exists() else 1
            counter.write_text(str(tries))
            if tries < 3:
                raise RuntimeError(f"flaky failure {tries}")
            return pd.DataFrame({"tries": [tries]})


        def broken():
            raise ValueError("always broken")


        def after_hang(hang):
            return {"n": len(hang)}
        """,
}


@pytest.fixture
def project(make_project) -> Project:
    made = make_project(FILES)
    done = made.braid("deps")
    assert done.returncode == 0, done.stdout + done.stderr
    return made


def node_rows(project: Project, run_id: str) -> dict[str, list[tuple]]:
    rows: dict[str, list[tuple]] = {}
    for name, attempt, status, message in project.sql(
            "select name, attempt, status, message from main.braid_node_runs "
            f"where run_id = '{run_id}' order by name, attempt"):
        rows.setdefault(name, []).append((attempt, status, message))
    return rows


def test_timeouts_and_retries_end_to_end(project: Project, tmp_path) -> None:
    began = time.monotonic()
    done = project.braid("run", env={"FLAKY_COUNTER": str(tmp_path / "count")})
    elapsed = time.monotonic() - began
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "Traceback" not in done.stderr, done.stderr
    # the abandoned 60 s sleep did not hold up the run, nor the process's exit
    assert elapsed < 45, elapsed
    results = {r["name"]: r for r in json.loads(
        (project.root / "target/braid/run_results.json").read_text())["results"]}
    assert results["hang"]["status"] == "error"
    assert results["hang"]["message"].startswith("timed out after 2s (meta.braid.timeout)")
    assert "timed out after 2s" in done.stdout
    # its downstream is skipped, of both kinds
    assert results["after_hang"]["status"] == "skipped"
    assert results["reads_hang"]["status"] == "skipped"
    # flaky failed twice, was retried after 0.2 s and 0.4 s, and succeeded the third time
    assert results["flaky"]["status"] == "success"
    assert project.sql("select tries from py.flaky") == [(3,)]
    assert "braid: flaky: attempt 1 of 4 failed (RuntimeError: flaky failure 1); retrying in " \
           "0.2s" in done.stdout, done.stdout
    assert "attempt 2 of 4 failed (RuntimeError: flaky failure 2); retrying in 0.4s" \
        in done.stdout
    # every attempt is in history: the retried ones, then the final one
    rows = node_rows(project, json.loads(
        (project.root / "target/braid/run_results.json").read_text())["run_id"])
    assert [(a, s) for a, s, _ in rows["flaky"]] == [(1, "retried"), (2, "retried"),
                                                      (3, "success")], rows
    assert rows["flaky"][0][2] == "RuntimeError: flaky failure 1"
    assert [(a, s) for a, s, _ in rows["broken"]] == [(1, "retried"), (2, "error")]
    assert [(a, s) for a, s, _ in rows["blocked"]] == [(1, "retried"), (2, "error")]
    assert all(m.startswith("timed out after 1s") for _, _, m in rows["blocked"])
    assert [(a, s) for a, s, _ in rows["hang"]] == [(1, "error")]
    # nothing was stored for the assets that timed out
    assert "hang" not in project.tables() and "blocked" not in project.tables()


