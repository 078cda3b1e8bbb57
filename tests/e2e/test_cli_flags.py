"""Flags read as dbt reads them: no abbreviations, ``--profile`` is its own flag, flags that
shape parsing reach braid's one parse, ``-h`` lists dbt's own flags for the command, and
every braid command takes dbt's global flags (-q, --no-use-colors, --log-format...) with
dbt's meaning."""

from __future__ import annotations

import json
import subprocess

import duckdb
from helpers import BRAID, BRAID_PACKAGE


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


# ---- dbt's global flags on braid's own commands (issue 25, item 2) ----------------------


GLOBAL_FILES = {
    **BRAID_PACKAGE,
    "models/a.sql": "{{ config(materialized='table') }} select 1 as id",
    "models/bad.sql": "select * from no_such_table",
}


def test_every_braid_command_takes_dbts_global_flags(make_project) -> None:
    project = make_project(GLOBAL_FILES)
    assert project.braid("deps").returncode == 0
    assert project.braid("run").returncode == 1  # bad fails: something to retry
    # status and history: -q keeps the table and silences braid's warning, as dbt -q would;
    # before the command as after it
    plain = project.braid("status", "-s", "nope")
    assert plain.returncode == 0 and "does not match any enabled nodes" in plain.stdout
    for args in (("status", "-s", "nope", "-q"), ("-q", "status", "-s", "nope"),
                 ("history", "-s", "nope", "--quiet")):
        done = project.braid(*args)
        assert done.returncode == 0, args
        assert "does not match" not in done.stdout + done.stderr, args
    assert project.braid("status", "-q").stdout.splitlines()[0].split()[:2] == ["node", "kind"]
    logged = project.braid("history", "-s", "nope", "--log-format", "json")
    assert json.loads(logged.stdout.splitlines()[0])["info"]["msg"].startswith(
        "The selection criterion 'nope'")
    assert project.braid("status", "-s", "nope", "--warn-error").returncode == 2
    # retry: dbt colours its lines by default; --no-use-colors turns them off, -q quiets all
    # but the errors
    coloured = project.braid("retry")
    assert coloured.returncode == 1 and "\x1b[" in coloured.stdout
    uncoloured = project.braid("retry", "--no-use-colors")
    assert uncoloured.returncode == 1, uncoloured.stdout + uncoloured.stderr
    assert "\x1b[" not in uncoloured.stdout and "no_such_table" in uncoloured.stdout
    quiet = project.braid("retry", "-q")
    assert quiet.returncode == 1 and "START" not in quiet.stdout
    assert "no_such_table" in quiet.stdout
    # the others: accepted, and -q leaves only what the command gives (a file, data)
    (project.root / "target/braid/lineage.json").unlink()
    for args in (("run", "--due", "-q"), ("ls", "-q", "-s", "nope"), ("lineage", "--quiet"),
                 ("catalog", "-q", "--no-use-colors"), ("schedules", "-q", "--log-level", "warn")):
        done = project.braid(*args)
        assert (done.returncode, done.stdout, done.stderr) == (0, "", ""), args
    assert (project.root / "target/braid/lineage.json").exists()
    assert project.braid("plugins", "-q", "--no-use-colors").returncode == 0
    # a flag neither braid nor dbt knows: one line naming the command as typed
    unknown = project.braid("run", "--due", "--bogus")
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == ("braid run --due: unrecognized arguments: --bogus; see "
                                      "braid run --due -h")
    helped = subprocess.run([BRAID, "status", "-h"], capture_output=True, text=True, timeout=60)
    assert "dbt's global flags" in helped.stdout and "--no-use-colors" in helped.stdout
