"""dbt's own tools see the Python links: the manifest.json braid leaves (after a run, and
from ``braid docs generate``) has each Python asset's edges in parent_map and child_map, and
``braid test -s python:NAME`` runs the tests on an asset's table."""

from __future__ import annotations

import json

from helpers import SOURCE_P_FROM_A, source_p_yaml

PROJECT = {
    **SOURCE_P_FROM_A,
    "models/a.sql": "{{ config(materialized='table') }} select 1 as id",
    "models/b.sql": "select * from {{ source('py', 'p') }}",
}


def _maps(project) -> tuple[dict, dict]:
    manifest = json.loads((project.root / "target" / "manifest.json").read_text())
    return manifest["parent_map"], manifest["child_map"]


def test_manifest_links_the_python_written_source_to_what_it_reads(make_project) -> None:
    project = make_project(PROJECT)
    done = project.braid("run")
    assert done.returncode == 0, done.stdout + done.stderr
    parents, children = _maps(project)
    assert parents["source.proj.py.p"] == ["model.proj.a"]
    assert "source.proj.py.p" in children["model.proj.a"]
    assert parents["model.proj.b"] == ["source.proj.py.p"]

    docs = project.braid("docs", "generate")
    assert docs.returncode == 0, docs.stdout + docs.stderr
    assert (project.root / "target" / "catalog.json").exists()
    parents, children = _maps(project)
    assert parents["source.proj.py.p"] == ["model.proj.a"]
    assert "source.proj.py.p" in children["model.proj.a"]


def test_braid_test_selects_the_tests_on_a_python_assets_table(make_project) -> None:
    project = make_project({
        **PROJECT,
        "models/sources.yml": source_p_yaml(
            table="columns: [{name: id, data_tests: [not_null, unique]}]",
            after="""
                models:
                  - name: b
                    columns: [{name: id, data_tests: [not_null]}]
                """),
    })
    assert project.braid("run").returncode == 0
    done = project.braid("test", "-s", "python:p")
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((project.root / "target" / "run_results.json").read_text())["results"]
    assert sorted(r["unique_id"].split(".")[2] for r in results) == [
        "source_not_null_py_p_id", "source_unique_py_p_id"]
    assert {r["status"] for r in results} == {"pass"}
    missing = project.braid("test", "-s", "python:nope")
    assert missing.returncode == 2 and "python:nope" in missing.stderr
