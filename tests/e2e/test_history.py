"""History in the warehouse, ``braid status``, ``braid retry`` and ``braid history``.

Every test reads the real history tables the package's macros wrote into the DuckDB file.
"""

from __future__ import annotations

import json
import signal

import pytest
from helpers import BRAID_PACKAGE, Project, copy_project, signal_when, template_project

SHOP = {
    **BRAID_PACKAGE,
    "seeds/raw.csv": "id,amount\n1,10\n2,20\n3,30\n",
    "models/base.sql": "{{ config(materialized='table') }} select id, amount from {{ ref('raw') }}",
    "models/report.sql": "{{ config(materialized='table') }} "
                         "select count(*) as n from {{ source('py', 'scored') }}",
    "models/side.sql": "{{ config(materialized='table') }} select 1 as id",
    "models/sources.yml": """
        version: 2
        sources:
          - name: py
            schema: py
            tables:
              - name: scored
                config:
                  meta:
                    braid:
                      python: score.run
                      depends_on: [base]
                      params: {factor: 2}
        exposures:
          - name: slow
            type: ml
            owner: {name: me}
            config: {meta: {braid: {python: score.slow}}}
        """,
    "python_assets/score.py": """
        import os
        import time
        from pathlib import Path


        def run(base, factor):
            if os.environ.get("SCORE_FAILS"):
                raise RuntimeError("the scoring service is down")
            return base.assign(score=base["amount"] * factor)


        def slow():
            marker = os.environ.get("SLOW_MARKER")
            if marker:
                Path(marker).write_text("started")
                time.sleep(60)
            return {"ok": True}
        """,
}
ON_RUN_END = """
    name: proj
    version: "1.0"
    config-version: 2
    profile: proj
    on-run-end: ["{{ braid.record_dbt_results(results) }}"]
    """


@pytest.fixture(scope="module")
def seeded_shop(tmp_path_factory) -> Project:
    """The shop after ``braid deps`` and a plain ``dbt seed`` (which the on-run-end hook
    records), once for the module."""
    project = template_project(tmp_path_factory, {**SHOP, "dbt_project.yml": ON_RUN_END},
                               ("deps",))
    seeded = project.dbt("seed")
    assert seeded.returncode == 0, seeded.stdout + seeded.stderr
    return project


@pytest.fixture
def shop(seeded_shop: Project, make_project) -> Project:
    """A copy of the seeded shop (its warehouse holds the seed's recorded run)."""
    return copy_project(seeded_shop, make_project)


def runs(project: Project) -> list[tuple]:
    return project.sql("select run_id, command, status, target_name, braid_version, dbt_version "
                       "from main.braid_runs order by started_at")


def node_rows(project: Project, run_id: str) -> dict[str, dict]:
    cols = ["unique_id", "name", "kind", "status", "rows_written", "message", "code_version",
            "input_versions", "started_at", "completed_at"]
    rows = project.sql(f"select {', '.join(cols)} from main.braid_node_runs "
                       f"where run_id = '{run_id}'")
    return {r[1]: dict(zip(cols, r, strict=True)) for r in rows}


def last_run_id(project: Project) -> str:
    return json.loads((project.root / "target/braid/run_results.json").read_text())["run_id"]


def test_plain_dbt_commands_record_through_on_run_end(shop) -> None:
    (seed_run,) = runs(shop)
    assert seed_run[1] == "dbt seed" and seed_run[2] == "success"
    assert node_rows(shop, seed_run[0])["raw"]["status"] == "success"


def test_every_run_records_itself_failures_and_skips_included(shop) -> None:
    done = shop.braid("run", env={"SCORE_FAILS": "1"})
    assert done.returncode == 1
    run_id = last_run_id(shop)
    record = [r for r in runs(shop) if r[0] == run_id]
    assert record == [(run_id, "braid run", "error", "dev", "0.1.0", record[0][5])]
    rows = node_rows(shop, run_id)
    assert rows["base"]["status"] == "success" and rows["base"]["code_version"]
    assert rows["scored"]["status"] == "error"
    assert "the scoring service is down" in rows["scored"]["message"]
    assert rows["report"]["status"] == "skipped"
    # braid's own dbt invocations are not recorded a second time by on-run-end
    assert [r[1] for r in runs(shop)] == ["dbt seed", "braid run"]

    assert shop.braid("run").returncode == 0
    second = last_run_id(shop)
    assert [r[2] for r in runs(shop)] == ["success", "error", "success"]
    rows = node_rows(shop, second)
    assert rows["scored"]["rows_written"] == 3
    assert len(rows["scored"]["code_version"]) == 64
    inputs = json.loads(rows["report"]["input_versions"])
    assert inputs == {"python.proj.scored": str(rows["scored"]["completed_at"])}


def test_ctrl_c_is_recorded_as_cancelled(shop, tmp_path) -> None:
    done = signal_when(shop, tmp_path / "slow_marker", signal.SIGINT, "--threads", "1")
    out, err = done.stdout, done.stderr
    assert done.returncode == 130, out + err
    run_id = last_run_id(shop)
    assert [r[2] for r in runs(shop) if r[0] == run_id] == ["cancelled"]
    rows = node_rows(shop, run_id)
    assert any(r["status"] == "skipped" and "interrupted" in (r["message"] or "")
               for r in rows.values())


def status(project: Project, *args: str) -> dict[str, dict]:
    done = project.braid("status", "--output", "json", *args)
    assert done.returncode == 0, done.stdout + done.stderr
    return {d["name"]: d for d in map(json.loads, done.stdout.splitlines())}


def test_status_says_fresh_or_stale_and_why(shop) -> None:
    before = status(shop)
    assert before["base"]["state"] == "stale" and before["base"]["reason"] == "never materialized"
    assert before["raw"]["state"] == "fresh"
    assert shop.braid("run").returncode == 0
    assert {s["state"] for s in status(shop).values()} == {"fresh"}

    # an upstream materialized after it
    assert shop.braid("run", "-s", "base").returncode == 0
    now = status(shop)
    assert now["scored"]["reason"] == "upstream base was materialized after it"
    assert now["report"]["reason"] == "upstream scored is stale"
    assert now["side"]["state"] == "fresh"

    # bring everything up to date with the stale method, and only what was stale runs
    done = shop.braid("run", "-s", "status:stale+")
    assert done.returncode == 0, done.stdout + done.stderr
    ran = json.loads((shop.root / "target/braid/run_results.json").read_text())["results"]
    assert {r["name"] for r in ran} == {"scored", "report"}
    assert {s["state"] for s in status(shop).values()} == {"fresh"}

    # the Python params changed
    yml = shop.root / "models" / "sources.yml"
    yml.write_text(yml.read_text().replace("factor: 2", "factor: 3"))
    now = status(shop, "-s", "scored")
    assert set(now) == {"scored"}
    assert now["scored"]["reason"] == "its Python source or params changed since it was last " \
                                      "materialized"
    # the SQL changed
    sql = shop.root / "models" / "side.sql"
    sql.write_text(sql.read_text() + "\n-- edited\n")
    assert status(shop)["side"]["reason"] == "its SQL changed since it was last materialized"

    # the last attempt failed
    assert shop.braid("run", "-s", "scored", env={"SCORE_FAILS": "1"}).returncode == 1
    assert status(shop)["scored"]["reason"].startswith("last attempt failed: RuntimeError")


def test_retry_runs_exactly_what_failed_or_was_skipped_with_the_same_flags(shop) -> None:
    done = shop.braid("run", "--threads", "1", "--vars", "{day: 1}", env={"SCORE_FAILS": "1"})
    assert done.returncode == 1
    failed = json.loads((shop.root / "target/braid/run_results.json").read_text())
    again = {r["unique_id"] for r in failed["results"] if r["status"] in ("error", "skipped")}
    assert again == {"python.proj.scored", "model.proj.report"}
    done = shop.braid("retry")
    assert done.returncode == 0, done.stdout + done.stderr
    retried = json.loads((shop.root / "target/braid/run_results.json").read_text())
    assert {r["unique_id"] for r in retried["results"]} == again
    assert retried["command"] == "retry"
    assert retried["args"]["argv"][:4] == ["--threads", "1", "--vars", "{day: 1}"]
    assert [r[1] for r in runs(shop)][-1] == "braid retry"
    assert shop.sql("select n from report") == [(3,)]
    # nothing left to retry
    done = shop.braid("retry")
    assert done.returncode == 0 and "Nothing to retry" in done.stdout


def test_retry_without_a_previous_run_is_an_invocation_error(make_project) -> None:
    project = make_project({"models/m.sql": "select 1 as id"})
    done = project.braid("retry")
    assert done.returncode == 2
    assert "no previous run to retry" in done.stderr


def test_history_lists_materializations_newest_first(shop) -> None:
    assert shop.braid("run").returncode == 0
    assert shop.braid("run", "-s", "base").returncode == 0
    done = shop.braid("history", "-s", "base", "--output", "json")
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["name"] for r in rows] == ["base", "base"]
    assert rows[0]["completed_at"] > rows[1]["completed_at"]
    table = shop.braid("history", "-n", "3").stdout.splitlines()
    assert table[0].split()[:4] == ["completed_at", "node", "kind", "status"]
    assert len(table) == 2 + 3


def test_seeds_loaded_without_the_recorder_are_unknown_not_stale(make_project) -> None:
    project = make_project(SHOP)  # no on-run-end hook
    assert project.braid("deps").returncode == 0
    assert project.dbt("seed").returncode == 0  # plain dbt: braid seed records it
    assert project.braid("run").returncode == 0
    now = status(project)
    assert now["raw"]["state"] == "unknown"
    assert {now[n]["state"] for n in ("base", "scored", "report", "side")} == {"fresh"}
    done = project.braid("status", "-t", "no_such_target")
    assert done.returncode == 2 and "no_such_target" in done.stdout + done.stderr


def test_python_method_and_resource_type_filters(shop) -> None:
    done = shop.braid("ls", "-s", "python:sc*", "python:base", "--output", "name")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1] == "python:scored"  # the model named base is not a Python asset
    assert "The selection criterion 'python:base' does not match any enabled nodes" in lines[0]
    done = shop.braid("build", "-s", "+report", "--exclude-resource-type", "python")
    assert done.returncode == 1  # report reads a table no Python asset has written yet
    ran = json.loads((shop.root / "target/braid/run_results.json").read_text())["results"]
    assert "scored" not in {r["name"] for r in ran}
