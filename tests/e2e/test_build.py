"""``braid build``: seeds, snapshots, models, tests and Python assets, as ``dbt build``."""

from __future__ import annotations

import json

from helpers import Project

BUILD = {
    "seeds/raw.csv": "id,amount\n1,10\n2,20\n3,30\n",
    "models/base.sql": "select id, amount from {{ ref('raw') }}",
    "models/base.yml": """
        version: 2
        models:
          - name: base
            columns:
              - name: id
                data_tests: [unique, not_null]
        """,
    "models/report.sql": "select count(*) as n from {{ source('py', 'scored') }}",
    "models/other.sql": "select sum(amount) as total from {{ ref('base') }}",
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
                columns:
                  - name: id
                    data_tests: [unique]
        exposures:
          - name: notify
            type: application
            owner: {name: ops}
            depends_on: ["source('py', 'scored')"]
            config: {meta: {braid: {python: score.notify}}}
        """,
    "python_assets/score.py": """
        import os

        import pandas as pd


        def run(base):
            frame = base.assign(score=base["amount"] * 2)
            if os.environ.get("DUPLICATE_IDS"):
                frame = pd.concat([frame, frame])
            return frame


        def notify(scored):
            return {"rows": len(scored)}
        """,
}


def results(project: Project) -> dict[str, dict]:
    data = json.loads((project.root / "target/braid/run_results.json").read_text())
    return {r["name"]: r for r in data["results"]}, data


def test_build_runs_seeds_models_tests_and_python_in_two_invocations(make_project) -> None:
    project = make_project(BUILD)
    done = project.braid("build")
    assert done.returncode == 0, done.stdout + done.stderr
    r, data = results(project)
    assert data["invocations"] == 2
    assert r["raw"]["resource_type"] == "seed" and r["raw"]["invocation"] == 0
    assert r["unique_base_id"]["status"] == "pass"
    # the Python asset waits for the tests on its input
    assert r["unique_base_id"]["completed_at"] <= r["scored"]["started_at"]
    test = "source_unique_py_scored_id"
    assert r[test]["invocation"] == 1 and r[test]["status"] == "pass"
    # tests on the Python-produced source run right after the asset, before what reads it
    assert r["scored"]["completed_at"] <= r[test]["started_at"]
    assert r[test]["completed_at"] <= r["report"]["started_at"]
    assert r[test]["completed_at"] <= r["notify"]["started_at"]
    assert project.sql("select n from report") == [(3,)]


def test_failing_test_on_python_source_skips_downstream(make_project) -> None:
    project = make_project(BUILD)
    done = project.braid("build", env={"DUPLICATE_IDS": "1"})
    assert done.returncode == 1
    r, _ = results(project)
    assert r["scored"]["status"] == "success"
    assert r["source_unique_py_scored_id"]["status"] == "fail"
    assert r["report"]["status"] == "skipped"
    assert r["notify"]["status"] == "skipped"
    assert r["other"]["status"] == "success"  # an independent branch still builds
    assert "report" not in project.tables()


def test_build_selection_with_indirect_tests(make_project) -> None:
    project = make_project(BUILD)
    done = project.braid("build", "-s", "+scored")
    assert done.returncode == 0, done.stdout + done.stderr
    r, _ = results(project)
    assert set(r) == {"raw", "base", "unique_base_id", "not_null_base_id", "scored",
                      "source_unique_py_scored_id"}
    done = project.braid("build", "-s", "+scored", "--indirect-selection", "empty")
    assert done.returncode == 0, done.stdout + done.stderr
    r, _ = results(project)
    assert set(r) == {"raw", "base", "scored"}
    done = project.braid("build", "-s", "+scored", "--exclude", "resource_type:test")
    assert set(results(project)[0]) == {"raw", "base", "scored"}


def test_ls_on_the_command_line(make_project) -> None:
    project = make_project(BUILD)
    done = project.braid("ls", "-s", "base+", "--output", "name", "--resource-type", "model",
                         "python")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.split()
    assert lines.index("base") < lines.index("python:scored") < lines.index("report")
    assert set(lines) == {"base", "python:scored", "report", "other", "python:notify"}
    done = project.braid("ls", "-s", "nothing_here")
    assert done.returncode == 0
    assert "does not match any enabled nodes" in done.stdout
