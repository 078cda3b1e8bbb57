"""Per-function code versions: ``state:modified`` and ``braid status`` on real dbt and DuckDB.

Two assets live in one module; one calls a helper. Editing one function marks only its asset
modified (against the manifest a braid run left in target/) and stale; editing the helper
marks only its caller; changing one asset's params in YAML marks only that one. The
manifest braid leaves stays one plain dbt can use (``dbt ls --state``, ``dbt docs generate``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import BRAID_PACKAGE, Project, copy_project, template_project

DBT = str(Path(sys.executable).with_name("dbt"))

FILES = {
    **BRAID_PACKAGE,
    "models/a.sql": "{{ config(materialized='table') }} select 1 as id",
    "models/after_first.sql": "select * from {{ source('py', 'first') }}",
    "models/sources.yml": """
        version: 2
        sources:
          - name: py
            schema: py
            tables:
              - name: first
                config: {meta: {braid: {python: both.first, depends_on: [a]}}}
              - name: second
                config:
                  meta: {braid: {python: both.second, depends_on: [a], params: {k: 2}}}
        """,
    "python_assets/both.py": """
        import pandas as pd

        OFFSET = 10


        def _shift(frame):
            return frame.assign(id=frame["id"] + OFFSET)


        def first(a):
            return _shift(a)


        def second(a, k):
            return pd.DataFrame({"id": a["id"] * k})
        """,
}


def _ok(done: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def _edit(project: Project, rel: str, old: str, new: str) -> None:
    path = project.root / rel
    text = path.read_text()
    assert old in text, (old, text)
    path.write_text(text.replace(old, new))


def _save_state(project: Project, name: str) -> str:
    """target/manifest.json as braid left it, copied where --state can read it."""
    state = project.root.parent / name
    state.mkdir()
    shutil.copy(project.root / "target" / "manifest.json", state / "manifest.json")
    return str(state)


def _modified(project: Project, state: str, select: str = "state:modified") -> set[str]:
    done = _ok(project.braid("ls", "-s", select, "--state", state, "--output", "name"))
    # a node is one word a line; dbt's notes ("No nodes selected!") are sentences
    return {line for line in done.stdout.splitlines() if line and " " not in line}


def _stale(project: Project) -> dict[str, str]:
    done = _ok(project.braid("status", "--output", "json"))
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return {r["name"]: r["reason"] for r in rows if r["state"] == "stale"}


def _ran(project: Project) -> set[str]:
    results = json.loads((project.root / "target/braid/run_results.json").read_text())
    return {r["name"] for r in results["results"]}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Project:
    """FILES after ``braid deps`` and a whole ``braid run``, once for the module."""
    return template_project(tmp_path_factory, FILES, ("deps",), ("run",))


@pytest.fixture
def project(built: Project, make_project) -> Project:
    """A copy of the built project: its target/manifest.json is the run's."""
    return copy_project(built, make_project)


def test_editing_one_function_marks_only_its_asset(project: Project) -> None:
    state = _save_state(project, "state0")
    manifest = json.loads(Path(state, "manifest.json").read_text())
    stored = manifest["sources"]["source.proj.py.first"]["config"]["meta"]["braid"]
    assert len(stored["code_version"]) == 64
    assert _modified(project, state) == set()
    assert _stale(project) == {}

    # edit `second` only: its asset alone is modified, stale, and run by state:modified
    _edit(project, "python_assets/both.py", '"id": a["id"] * k', '"id": a["id"] * k + 1')
    assert _modified(project, state) == {"python:second"}
    assert _modified(project, state, "state:modified+") == {"python:second"}
    assert _modified(project, state, "state:modified.body") == {"python:second"}
    unmodified = _modified(project, state, "state:unmodified")
    assert "python:second" not in unmodified and "python:first" in unmodified
    stale = _stale(project)
    assert set(stale) == {"second"}
    assert "Python source or params changed" in stale["second"]
    _ok(project.braid("run", "-s", "state:modified", "--state", state))
    assert _ran(project) == {"second"}
    assert project.sql("select id from py.second") == [(3,)]
    assert _stale(project) == {}
    # that run ran no dbt node, and still left the manifest with the new versions
    state = _save_state(project, "state1")
    assert _modified(project, state) == set()

    # edit the helper `first` calls: only `first` (and what reads it, with +)
    _edit(project, "python_assets/both.py", "OFFSET = 10", "OFFSET = 20")
    assert _modified(project, state) == {"python:first"}
    assert _modified(project, state, "state:modified+") == {"python:first", "after_first"}
    assert set(_stale(project)) == {"first", "after_first"}
    _ok(project.braid("run", "-s", "state:modified+", "--state", state))
    assert _ran(project) == {"first", "after_first"}
    assert project.sql("select id from after_first") == [(21,)]
    state = _save_state(project, "state2")

    # params in YAML: only that asset
    _edit(project, "models/sources.yml", "params: {k: 2}", "params: {k: 5}")
    assert _modified(project, state) == {"python:second"}
    assert set(_stale(project)) == {"second"}


def test_an_import_line_counts_for_the_functions_using_it(project: Project) -> None:
    state = _save_state(project, "state0")
    # `second` uses pd, `first` does not
    _edit(project, "python_assets/both.py", "import pandas as pd", "import numpy as pd")
    assert _modified(project, state) == {"python:second"}


def test_the_manifest_braid_leaves_is_one_plain_dbt_uses(project: Project) -> None:
    state = _save_state(project, "state0")
    args = ["--project-dir", str(project.root), "--profiles-dir", str(project.root)]
    # plain dbt reads braid's manifest as its state: nothing changed, nothing modified (the
    # version in meta is not one of dbt's changes)
    listed = _ok(subprocess.run(
        [DBT, "ls", "-s", "state:modified", "--state", state, "--output", "name", *args],
        capture_output=True, text=True, cwd=project.root))
    assert "first" not in listed.stdout and "second" not in listed.stdout, listed.stdout
    docs = _ok(subprocess.run([DBT, "docs", "generate", *args], capture_output=True, text=True,
                              cwd=project.root))
    assert (project.root / "target" / "catalog.json").exists(), docs.stdout


def test_the_vars_an_asset_reads_count_in_its_version(project: Project) -> None:
    """Issue 25 point 9: ``--vars`` that change what an asset computes make it stale and
    ``state:modified``; vars it does not read change nothing."""
    _edit(project, "python_assets/both.py", "def second(a, k):\n"
          '    return pd.DataFrame({"id": a["id"] * k})',
          "def second(a, k, context):\n"
          '    return pd.DataFrame({"id": a["id"] * k * context.vars.get("scale", 1)})')
    scale3 = ("--vars", "{scale: 3}")
    _ok(project.braid("run", "-s", "python:second", *scale3))
    assert project.sql("select id from py.second") == [(6,)]
    state = _save_state(project, "state0")
    assert _stale_with(project, *scale3) == {}
    assert _stale_with(project, "--vars", "{scale: 3, unrelated: 1}") == {}
    assert _modified(project, state) == {"python:second"}  # no --vars: scale is unset
    for args in (scale3, ("--vars", "{scale: 3, unrelated: 1}")):
        done = _ok(project.braid("ls", "-s", "state:modified", "--state", state,
                                 "--output", "name", *args))
        assert "python:second" not in done.stdout
    stale = _stale_with(project, "--vars", "{scale: 4}")
    assert set(stale) == {"second"}
    assert "Python source, params or the vars it reads changed" in stale["second"]
    # `first` reads no vars: its reason and version are as before
    assert "first" not in _stale_with(project, "--vars", "{scale: 4}")


def _stale_with(project: Project, *args: str) -> dict[str, str]:
    done = _ok(project.braid("status", "--output", "json", *args))
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return {r["name"]: r["reason"] for r in rows if r["state"] == "stale"}
