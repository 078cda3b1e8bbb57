"""Flags read as dbt reads them: no abbreviations, ``--profile`` is its own flag, flags that
shape parsing reach braid's one parse, and ``-h`` lists dbt's own flags for the command."""

from __future__ import annotations

import subprocess

import duckdb
from conftest import BRAID


def test_run_help_lists_dbt_own_flags_for_the_command() -> None:
    for command, dbt_only in (("run", "--empty"), ("build", "--store-failures"),
                              ("ls", "--output-keys")):
        done = subprocess.run([BRAID, command, "-h"], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0
        assert "goes to dbt unchanged" in done.stdout
        assert f"dbt's own flags for `dbt {command}`" in done.stdout
        assert dbt_only in done.stdout
        assert "--defer" in done.stdout


def test_no_abbreviations_a_prefix_is_not_a_flag(make_project) -> None:
    project = make_project({"models/a.sql": "select 1 as id"})
    done = project.braid("run", "--sel", "a")
    assert done.returncode == 2
    assert "--sel" in done.stderr and "Traceback" not in done.stderr
    assert "a" not in project.tables()


def test_profile_names_the_profile_and_not_the_profiles_dir(make_project, tmp_path) -> None:
    other_db = tmp_path / "other.duckdb"
    project = make_project({"models/a.sql": "{{ config(materialized='table') }} select 1 as id"})
    profiles = project.root / "profiles.yml"
    profiles.write_text(profiles.read_text() + (
        "other:\n  target: dev\n  outputs:\n    dev:\n"
        f"      type: duckdb\n      path: \"{other_db}\"\n      threads: 1\n"))
    done = project.braid("run", "--profile", "other")
    assert done.returncode == 0, done.stdout + done.stderr
    with duckdb.connect(str(other_db), read_only=True) as con:
        assert con.execute("select id from a").fetchall() == [(1,)]
    assert "a" not in project.tables()  # the project's own profile was not used
    listed = project.braid("ls", "--profile", "nope")
    assert listed.returncode == 2 and "nope" in listed.stderr


def test_no_partial_parse_reaches_the_parse(make_project) -> None:
    project = make_project({"models/a.sql": "select 1 as id"})
    assert project.braid("ls").returncode == 0
    log = project.root / "logs" / "dbt.log"
    log.unlink()
    assert project.braid("ls", "--no-partial-parse").returncode == 0
    assert "Partial parsing not enabled" in log.read_text()


def test_a_selection_matching_nothing_exits_as_dbt_does(make_project) -> None:
    project = make_project({"models/a.sql": "select 1 as id"})
    plain = project.braid("run", "-s", "nope")
    assert plain.returncode == 0
    assert "does not match any enabled nodes" in plain.stdout
    for flags in (["--warn-error"],
                  ["--warn-error-options", '{"error": ["NoNodesForSelectionCriteria"]}']):
        strict = project.braid("run", "-s", "nope", *flags)
        assert strict.returncode == 2, flags
        assert "--warn-error" in strict.stderr and "Traceback" not in strict.stderr
    relaxed = project.braid("run", "-s", "nope", "--warn-error-options",
                            '{"error": "all", "warn": ["NoNodesForSelectionCriteria"]}')
    assert relaxed.returncode == 0
