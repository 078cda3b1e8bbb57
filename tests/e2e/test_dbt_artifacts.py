"""dbt's own contracts after a braid run: one target/run_results.json for the whole run (all
batches, nodes braid skipped, the user's arguments), ``dbt retry`` on it, and the project's
on-run-start/on-run-end hooks once per braid run with the results of the whole run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import BRAID_PACKAGE, Project, copy_project, source_p_yaml, template_project

DBT = str(Path(sys.executable).with_name("dbt"))

HOOKED = {
    **BRAID_PACKAGE,
    "dbt_project.yml": """
        name: proj
        version: "1.0"
        config-version: 2
        profile: proj
        on-run-start:
          - "create table if not exists main.hook_log (kind varchar, n integer)"
          - "insert into main.hook_log values ('start', 0)"
        on-run-end:
          - "insert into main.hook_log values ('end', {{ results | length }})"
        """,
    "models/a.sql": "{{ config(materialized='table') }} select 1 as id",
    "models/b.sql": "{{ config(materialized='table') }} select * from {{ source('py', 'p') }}",
    "models/c.sql": "{{ config(materialized='table') }} select * from {{ ref('b') }}",
    "models/sources.yml": source_p_yaml(schema="py"),
    "python_assets/p.py": """
        import os


        def make(a):
            if os.environ.get("P_FAILS"):
                raise RuntimeError("p is broken")
            return a
        """,
}


@pytest.fixture(scope="module")
def deployed(tmp_path_factory) -> Project:
    """HOOKED after ``braid deps``, once for the module (tests start from copies)."""
    return template_project(tmp_path_factory, HOOKED, ("deps",))


@pytest.fixture
def project(deployed: Project, make_project) -> Project:
    return copy_project(deployed, make_project)


def _run_results(project) -> dict:
    return json.loads((project.root / "target" / "run_results.json").read_text())


def _statuses(doc: dict) -> dict[str, str]:
    return {r["unique_id"]: r["status"] for r in doc["results"]
            if not r["unique_id"].startswith("operation.")}


def test_run_results_hold_the_whole_run_and_hooks_run_once(project: Project) -> None:
    done = project.braid("run", "-s", "a+", "--vars", "{who: me}")
    assert done.returncode == 0, done.stdout + done.stderr
    braid = json.loads((project.root / "target" / "braid" / "run_results.json").read_text())
    assert braid["invocations"] == 2  # a | p | b, c
    doc = _run_results(project)
    assert doc["args"]["which"] == "run"
    assert doc["args"]["select"] == ["a+"]
    assert doc["args"]["vars"] == {"who": "me"}  # not braid's own run id
    assert _statuses(doc) == {
        "model.proj.a": "success", "model.proj.b": "success", "model.proj.c": "success"}
    hooks = [r["unique_id"] for r in doc["results"] if r["unique_id"].startswith("operation.")]
    assert len(hooks) == 3  # two on-run-start, one on-run-end: once each
    # on-run-end saw the results of both batches
    assert sorted(project.sql("select kind, n from main.hook_log")) == [("end", 3), ("start", 0)]


def test_dbt_retry_reruns_what_a_failing_braid_run_skipped(project: Project) -> None:
    assert project.braid("run").returncode == 0
    import duckdb

    with duckdb.connect(str(project.db)) as con:
        con.execute("delete from main.hook_log")
    failed = project.braid("run", env={"P_FAILS": "1"})
    assert failed.returncode == 1
    doc = _run_results(project)
    assert _statuses(doc) == {
        "model.proj.a": "success", "model.proj.b": "skipped", "model.proj.c": "skipped"}
    # the second batch never ran, yet on-run-end ran once, with the run's results: a's, and
    # b's and c's skips, as dbt's on-run-end sees the nodes it skipped (issue 27)
    assert sorted(project.sql("select kind, n from main.hook_log")) == [("end", 3), ("start", 0)]

    retried = subprocess.run(
        [DBT, "retry", "--project-dir", str(project.root), "--profiles-dir", str(project.root)],
        cwd=project.root, capture_output=True, text=True, timeout=300,
    )
    assert retried.returncode == 0, retried.stdout + retried.stderr
    assert _statuses(_run_results(project)) == {
        "model.proj.b": "success", "model.proj.c": "success"}


def test_target_path_and_log_path_move_everything_braid_writes(project: Project) -> None:
    import shutil

    shutil.rmtree(project.root / "logs")  # deps' own log
    done = project.braid("run", "--target-path", "elsewhere", "--log-path", "other_logs")
    assert done.returncode == 0, done.stdout + done.stderr
    moved = project.root / "elsewhere"
    for name in ("run_results.json", "manifest.json", "braid/run_results.json",
                 "braid/lineage.json"):
        assert (moved / name).is_file(), name
    assert json.loads((moved / "run_results.json").read_text())["args"]["which"] == "run"
    assert (project.root / "other_logs" / "dbt.log").is_file()
    assert not (project.root / "target").exists()
    assert not (project.root / "logs").exists()
