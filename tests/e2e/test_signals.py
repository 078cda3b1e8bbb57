"""SIGINT and SIGTERM stop a run the same way (issue 14, point 2): real processes, real
signals, the real history tables. A table write under way when the signal comes finishes
and is recorded as written; what had not started is skipped; no traceback; exit 130 / 143.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from helpers import BRAID_PACKAGE, Project, signal_when

#: p streams its rows to the warehouse slowly: the write is under way for ~2 s after the
#: marker appears; slow sleeps in its function
FILES = {
    **BRAID_PACKAGE,
    "models/a.sql": "{{ config(materialized='table') }} select 1 as id",
    "models/after.sql": "{{ config(materialized='table') }} "
                        "select count(*) as n from {{ source('py', 'p') }}",
    "models/sources.yml": """
        version: 2
        sources:
          - name: py
            schema: py
            tables:
              - name: p
                config: {meta: {braid: {python: work.stream, depends_on: [a]}}}
        exposures:
          - name: slow
            type: ml
            owner: {name: me}
            config: {meta: {braid: {python: work.slow}}}
        """,
    "python_assets/work.py": """
        import os
        import time
        from pathlib import Path

        import pyarrow as pa

        SCHEMA = pa.schema([("id", pa.int64())])


        def _batches():
            marker = os.environ.get("WRITE_MARKER")
            for i in range(20):
                if i == 1 and marker:
                    Path(marker).write_text("writing")
                time.sleep(0.1)
                yield pa.record_batch([pa.array(range(i * 1000, (i + 1) * 1000))],
                                      schema=SCHEMA)


        def stream(a):
            return pa.RecordBatchReader.from_batches(SCHEMA, _batches())


        def slow():
            marker = os.environ.get("SLOW_MARKER")
            if marker:
                Path(marker).write_text("started")
                time.sleep(60)
            return {"ok": True}
        """,
}


@pytest.fixture
def project(make_project) -> Project:
    made = make_project(FILES)
    done = made.braid("deps")
    assert done.returncode == 0, done.stdout + done.stderr
    return made


def _records(project: Project) -> tuple[str, dict[str, str]]:
    braid = json.loads((project.root / "target/braid/run_results.json").read_text())
    run_id = braid["run_id"]
    (status,) = project.sql(f"select status from main.braid_runs where run_id = '{run_id}'")
    rows = project.sql(f"select name, status from main.braid_node_runs where run_id = '{run_id}'")
    assert {r["name"]: r["status"] for r in braid["results"]} == dict(rows)
    return status[0], dict(rows)


@pytest.mark.parametrize("signum, code, said", [
    (signal.SIGINT, 130, "stopped by Ctrl-C"), (signal.SIGTERM, 143, "stopped by SIGTERM")])
def test_a_signal_during_a_write_lets_it_finish_and_records_it(project: Project, tmp_path: Path,
                                                               signum, code, said) -> None:
    marker = tmp_path / "write_marker"
    done = signal_when(project, marker, signum, "-s", "a", "p", "after")
    assert done.returncode == code, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    assert said in done.stdout, done.stdout
    status, rows = _records(project)
    assert status == "cancelled"
    # the write under way finished: the records say so, and the warehouse agrees
    assert rows["p"] == "success", rows
    assert project.sql("select count(*) from py.p") == [(20000,)]
    # what had not started did not run
    assert rows["after"] == "skipped"
    assert "after" not in project.tables()


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_during_a_function_skips_it_and_the_rest(project: Project, tmp_path: Path,
                                                          signum, code) -> None:
    marker = tmp_path / "slow_marker"
    done = signal_when(project, marker, signum, "-s", "slow", "a", "--threads", "1")
    assert done.returncode == code, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    status, rows = _records(project)
    assert status == "cancelled" and rows["slow"] == "skipped", rows
    assert "Exited because of keyboard interrupt" in done.stdout  # dbt's words, once
