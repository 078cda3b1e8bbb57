"""The command line: exit codes, flags checked before anything runs, dbt parsed once."""

from __future__ import annotations

import json

import pytest
from helpers import Project

SIMPLE = {
    "models/a.sql": "select 1 as id",
    "models/b.sql": "select id + 1 as id from {{ source('py', 'mid') }}",
    "models/sources.yml": """
        version: 2
        sources:
          - name: py
            tables:
              - name: mid
                config: {meta: {braid: {python: mid.make, depends_on: [a]}}}
        """,
    "python_assets/mid.py": "def make(a):\n    return a\n",
}


def assert_nothing_ran(project: Project) -> None:
    assert not project.tables() & {"a", "b", "mid"}


@pytest.mark.parametrize("flags, message", [
    (["--bogus"], "No such option '--bogus'"),
    (["--threads", "0"], "--threads must be at least 1"),
    (["--threads", "many"], "invalid int value"),
    (["--selector", "nightly"], "no selector named 'nightly'"),
    (["-s", "foo:bar"], "'foo' is not a valid method name"),
    (["-s"], "expected at least one argument"),
])
def test_bad_flags_exit_2_before_anything_runs(make_project, flags, message) -> None:
    project = make_project(SIMPLE)
    done = project.braid("run", *flags)
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert_nothing_ran(project)


def test_project_that_does_not_parse_exits_2(make_project) -> None:
    project = make_project({**SIMPLE, "models/broken.sql": "select {{ ref('nowhere') }}"})
    done = project.braid("run")
    assert done.returncode == 2
    assert "dbt could not parse the project" in done.stderr
    assert "nowhere" in done.stderr
    assert_nothing_ran(project)


def test_unmatched_selection_says_so_and_does_nothing(make_project) -> None:
    project = make_project(SIMPLE)
    done = project.braid("run", "-s", "no_such_model")
    assert done.returncode == 0
    assert "'no_such_model' does not match any enabled nodes" in done.stdout
    assert "Nothing to do" in done.stdout
    assert_nothing_ran(project)


def test_version_and_help() -> None:
    import subprocess

    from helpers import BRAID

    out = subprocess.run([BRAID, "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("braid ")
    out = subprocess.run([BRAID], capture_output=True, text=True)
    assert out.returncode == 0 and "braid <command>" in out.stdout and "build" in out.stdout
    out = subprocess.run([BRAID, "run", "-h"], capture_output=True, text=True)
    assert out.returncode == 0 and "--fail-fast" in out.stdout


def test_dbt_is_parsed_once_per_command(make_project, monkeypatch, capsys) -> None:
    """In-process: count dbt's manifest loads during a run with two dbt invocations."""
    from dbt.parser.manifest import ManifestLoader
    from dbt_braid.cli import main

    project = make_project(SIMPLE)
    calls = []
    original = ManifestLoader.get_full_manifest.__func__  # type: ignore[attr-defined]

    def counting(cls, *args, **kwargs):
        calls.append(1)
        return original(cls, *args, **kwargs)

    monkeypatch.setattr(ManifestLoader, "get_full_manifest", classmethod(counting))
    code = main(["run", "--project-dir", str(project.root), "--profiles-dir", str(project.root)])
    assert code == 0, capsys.readouterr()
    run = json.loads((project.root / "target/braid/run_results.json").read_text())
    assert run["invocations"] == 2
    assert len(calls) == 1
    assert project.sql("select id from b") == [(2,)]
