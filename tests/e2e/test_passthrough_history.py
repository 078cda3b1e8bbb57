"""``braid seed``, ``braid snapshot`` and ``braid test``: dbt's commands, recorded in braid's
history as ``braid build`` records them, and otherwise what plain dbt gives (its console,
its exit code, its target/run_results.json, ``dbt retry`` after them)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest
from helpers import BRAID_PACKAGE, Project, copy_project, template_project

SHOP = {
    **BRAID_PACKAGE,
    # plain dbt's recorder: braid's own invocations must not be recorded twice by it
    "dbt_project.yml": """
        name: proj
        version: "1.0"
        config-version: 2
        profile: proj
        on-run-end: ["{{ braid.record_dbt_results(results) }}"]
        """,
    # id 2 twice: the unique test fails
    "seeds/raw.csv": "id,amount\n1,10\n2,20\n2,30\n",
    "seeds/schema.yml": """
        version: 2
        seeds:
          - name: raw
            columns: [{name: id, data_tests: [not_null, unique]}]
        """,
    "snapshots/snap.sql": """
        {% snapshot snap %}
        {{ config(target_schema='snapshots', unique_key='id', strategy='check',
                  check_cols='all') }}
        select 1 as id, 'x' as v
        {% endsnapshot %}
        """,
    "models/base.sql": "{{ config(materialized='table') }} select id, amount from {{ ref('raw') }}",
    "models/sources.yml": """
        version: 2
        sources:
          - name: py
            schema: py
            tables:
              - name: scored
                config: {meta: {braid: {python: score.run, depends_on: [base]}}}
                columns: [{name: id, data_tests: [not_null]}]
        """,
    "python_assets/score.py": "def run(base):\n    return base\n",
}
UNIQUE = "test.proj.unique_raw_id.c55f3e2642"


@pytest.fixture(scope="module")
def deployed(tmp_path_factory) -> Project:
    """SHOP after ``braid deps``: nothing loaded yet."""
    return template_project(tmp_path_factory, SHOP, ("deps",))


@pytest.fixture(scope="module")
def built(tmp_path_factory, deployed: Project) -> Project:
    """SHOP with its seed, model and Python asset built (the tests have tables to read)."""
    return template_project(tmp_path_factory, {}, ("seed",), ("run",), base=deployed)


def _plain_copy(project: Project, tmp_path: Path) -> Project:
    """The same project, warehouse and target/ in another folder, for plain dbt."""
    root = tmp_path / "plain" / project.root.name
    shutil.copytree(project.root, root, symlinks=True,
                    ignore=shutil.ignore_patterns("partial_parse.msgpack"))
    return Project(root, env={"BRAID_TEST_DB": str(root / "warehouse.duckdb")})


def _lines(output: str) -> list[str]:
    """dbt's console lines without what differs between two runs (times of day,
    durations) and the parse's notice of a full parse (braid's one parse is quiet, as for
    ``braid run``; a copy has no partial-parse file)."""
    out = []
    for line in output.splitlines():
        if "Unable to do partial parsing" in line:
            continue
        line = re.sub(r"\d\d:\d\d:\d\d", "T", line)
        line = re.sub(r"\d+\.\d+s|\d+\.\d+ seconds", "Ns", line)
        out.append(line.rstrip())
    return out


def _summary(output: str) -> list[str]:
    """From "Finished running" to dbt's ``Done.`` line, in order."""
    lines = _lines(output)
    start = next(i for i, line in enumerate(lines) if "Finished running" in line)
    return [line for line in lines[start:] if not line.startswith("|  ")]


def _statuses(project: Project) -> dict[str, str]:
    doc = json.loads((project.root / "target" / "run_results.json").read_text())
    return {r["unique_id"]: r["status"] for r in doc["results"]}


def _runs(project: Project) -> list[tuple]:
    return project.sql("select run_id, command, status from main.braid_runs order by started_at")


def _node_rows(project: Project, run_id: str) -> dict[str, tuple]:
    rows = project.sql("select name, kind, status, message from main.braid_node_runs "
                       f"where run_id = '{run_id}'")
    return {r[0]: r[1:] for r in rows}


@pytest.mark.parametrize("args", [("seed",), ("snapshot",), ("test",)])
def test_braid_reads_as_plain_dbt(args: tuple[str, ...], built: Project, make_project,
                                  tmp_path) -> None:
    project = copy_project(built, make_project)
    plain = _plain_copy(project, tmp_path)
    mine, theirs = project.braid(*args), plain.dbt(*args)
    assert mine.returncode == theirs.returncode == (1 if args == ("test",) else 0), \
        mine.stdout + mine.stderr + theirs.stdout
    assert _statuses(project) == _statuses(plain)
    assert _summary(mine.stdout) == _summary(theirs.stdout)
    # every line, in whatever order dbt's threads finished
    assert sorted(_lines(mine.stdout)) == sorted(_lines(theirs.stdout))
    assert mine.stderr == theirs.stderr == ""


def test_seed_and_snapshot_are_recorded_so_status_knows_them(deployed: Project,
                                                              make_project) -> None:
    project = copy_project(deployed, make_project)
    assert project.braid("seed").returncode == 0
    assert project.braid("snapshot").returncode == 0
    seed_run, snapshot_run = _runs(project)  # each once: on-run-end saw braid's run id
    assert seed_run[1:] == ("braid seed", "success")
    assert snapshot_run[1:] == ("braid snapshot", "success")
    assert _node_rows(project, seed_run[0]) == {"raw": ("seed", "success", "INSERT 3")}
    assert _node_rows(project, snapshot_run[0]) == {"snap": ("snapshot", "success", "OK")}
    done = project.braid("status", "--output", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    found = {row["name"]: row for row in map(json.loads, done.stdout.splitlines())}
    for name in ("raw", "snap"):
        assert found[name]["state"] == "fresh", found[name]
        assert found[name]["last_status"] == "success" and found[name]["last_run"]
        assert "no materialization recorded" not in found[name]["reason"]
    # no model or Python asset ran
    assert found["base"]["state"] == found["scored"]["state"] == "stale"


def test_test_results_are_recorded_and_retry_reruns_the_failure_as_dbt_retry(
        built: Project, make_project, tmp_path) -> None:
    project = copy_project(built, make_project)
    before = project.sql("select count(*) from main.braid_node_runs where kind = 'python'")
    done = project.braid("test")
    assert done.returncode == 1, done.stdout + done.stderr
    run_id, command, status = _runs(project)[-1]
    assert (command, status) == ("braid test", "error")
    rows = _node_rows(project, run_id)
    assert rows == {
        "not_null_raw_id": ("test", "pass", None),
        "unique_raw_id": ("test", "fail", "Got 1 result, configured to fail if != 0"),
        "source_not_null_py_scored_id": ("test", "pass", None),
    }
    # a test of the Python asset's table ran; the asset did not
    assert project.sql("select count(*) from main.braid_node_runs where kind = 'python'") \
        == before

    with duckdb.connect(str(project.db)) as con:  # the data fixed, as a user would
        con.execute("delete from main.raw where amount = 30")
    plain = _plain_copy(project, tmp_path)
    mine, theirs = project.braid("retry"), plain.dbt("retry")
    assert mine.returncode == theirs.returncode == 0, mine.stdout + mine.stderr + theirs.stdout
    assert _statuses(project) == _statuses(plain) == {
        UNIQUE: "pass", "operation.proj.proj-on-run-end-0": "success"}
    assert _runs(project)[-1][1:] == ("braid retry", "success")


def test_python_selects_the_tests_of_an_assets_table_only(built: Project,
                                                          make_project) -> None:
    project = copy_project(built, make_project)
    done = project.braid("test", "-s", "python:scored")
    assert done.returncode == 0, done.stdout + done.stderr
    run_id = _runs(project)[-1][0]
    assert _node_rows(project, run_id) == {
        "source_not_null_py_scored_id": ("test", "pass", None)}
    missing = project.braid("test", "-s", "python:nope")
    assert missing.returncode == 2 and "python:nope" in missing.stderr


def test_without_braids_package_braid_seed_still_reads_as_dbt_seed(make_project,
                                                                     tmp_path) -> None:
    # no packages.yml: nothing recorded, nothing said. No project hook either: dbt 1.12's
    # own `seed --show` fails on a hook's result (no table), where braid shows the seeds
    project = make_project({"seeds/s.csv": "id,n\n1,1\n2,2\n"})
    plain = _plain_copy(project, tmp_path)
    mine, theirs = project.braid("seed", "--show"), plain.dbt("seed", "--show")
    assert mine.returncode == theirs.returncode == 0, mine.stdout + mine.stderr
    assert sorted(_lines(mine.stdout)) == sorted(_lines(theirs.stdout))
    # in dbt's order: --show's sample (its rows in random order) after "Finished running"
    assert "Random sample of table: main.s" in _summary(mine.stdout)[2]
    assert _summary(mine.stdout) == _summary(theirs.stdout)
    assert mine.stderr == ""
