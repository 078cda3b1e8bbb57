"""A Python-written table belongs to its target: another target of the same warehouse never
writes the tables the default target's runs wrote (dbtcore.targets)."""

from __future__ import annotations

import duckdb
from helpers import SOURCE_P_FROM_A, source_p_yaml

TWO_TARGETS = """
    proj:
      target: dev
      outputs:
        dev:
          type: duckdb
          path: "{{ env_var('BRAID_TEST_DB') }}"
          schema: main
          threads: 2
        ci:
          type: duckdb
          path: "{{ env_var('BRAID_TEST_DB') }}"
          schema: ci
          threads: 2
        elsewhere:
          type: duckdb
          path: "{{ env_var('BRAID_TEST_DB') }}.ci"
          schema: main
          threads: 2
    """



def _project(make_project, schema: str):
    return make_project({
        "profiles.yml": TWO_TARGETS,
        "models/a.sql": "{{ config(materialized='table') }} "
                        "select '{{ target.name }}' as written_by",
        **SOURCE_P_FROM_A,
        "models/sources.yml": source_p_yaml(schema=schema),
    })


def test_another_target_may_not_write_the_default_targets_table(make_project) -> None:
    project = _project(make_project, "py")
    assert project.braid("run").returncode == 0
    assert project.sql("select written_by from py.p") == [("dev",)]

    refused = project.braid("run", "-t", "ci")
    assert refused.returncode == 2
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1, refused.stderr
    assert lines[0].startswith("models/sources.yml: source py.p: schema: target 'ci' would write")
    assert "{{ target.schema }}_py" in lines[0] and "--allow-shared-tables" in lines[0]
    assert "ci" not in {r[0] for r in project.sql("select schema_name from "
                                                  "information_schema.schemata")}
    assert project.sql("select written_by from py.p") == [("dev",)]  # untouched

    allowed = project.braid("run", "-t", "ci", "--allow-shared-tables")
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    assert project.sql("select written_by from py.p") == [("ci",)]


def test_per_target_schema_keeps_each_targets_table(make_project) -> None:
    project = _project(make_project, '"{{ target.schema }}_py"')
    assert project.braid("run").returncode == 0
    done = project.braid("run", "-t", "ci")
    assert done.returncode == 0, done.stdout + done.stderr
    assert project.sql("select written_by from main_py.p") == [("dev",)]
    assert project.sql("select written_by from ci_py.p") == [("ci",)]


def test_another_warehouse_is_free_to_use_the_same_schema(make_project) -> None:
    project = _project(make_project, "py")
    done = project.braid("run", "-t", "elsewhere")
    assert done.returncode == 0, done.stdout + done.stderr
    with duckdb.connect(f"{project.db}.ci", read_only=True) as con:
        assert con.execute("select written_by from py.p").fetchall() == [("elsewhere",)]
