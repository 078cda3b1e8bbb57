"""Slim CI with Python in the graph: ``--defer --state`` reads a Python asset's input that
this target did not build from the relation the state's manifest names, as dbt does for refs.
"""

from __future__ import annotations

import shutil

from helpers import source_p_yaml

PROFILES = """
    proj:
      target: prod
      outputs:
        prod:
          type: duckdb
          path: "{{ env_var('BRAID_TEST_DB') }}"
          schema: main
          threads: 2
        ci:
          type: duckdb
          path: "{{ env_var('BRAID_TEST_DB') }}"
          schema: ci
          threads: 2
    """

DEFER = {
    "profiles.yml": PROFILES,
    "models/a.sql": "{{ config(materialized='table') }} select '{{ target.name }}' as built_by",
    "models/b.sql": "{{ config(materialized='table') }} select * from {{ source('py', 'p') }}",
    "models/sources.yml": source_p_yaml(schema='"{{ target.schema }}_py"'),
    "python_assets/p.py": "def make(a):\n    return a\n",
}



def test_defer_reads_unbuilt_inputs_from_the_state(make_project) -> None:
    project = make_project(DEFER)
    assert project.braid("run").returncode == 0  # prod
    shutil.copytree(project.root / "target", project.root / "prod_state")

    done = project.braid("run", "-t", "ci", "-s", "python:p+", "--defer",
                         "--state", "prod_state")
    assert done.returncode == 0, done.stdout + done.stderr
    # a was not built in ci: p read prod's, and b (dbt) deferred the same way downstream
    assert project.sql("select built_by from ci_py.p") == [("prod",)]
    assert project.sql("select built_by from ci.b") == [("prod",)]
    assert "a" not in {r[0] for r in project.sql(
        "select table_name from information_schema.tables where table_schema = 'ci'")}

    without = project.braid("run", "-t", "ci", "-s", "python:p")
    assert without.returncode == 1  # no defer: ci's own a does not exist
    assert "does not exist" in without.stdout + without.stderr


def test_defer_needs_a_state(make_project) -> None:
    project = make_project(DEFER)
    done = project.braid("run", "-t", "ci", "-s", "python:p", "--defer")
    assert done.returncode == 2
    assert "--defer needs --state" in done.stderr
