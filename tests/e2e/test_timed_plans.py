"""Plans that use history (issue 18, point 3), end to end on DuckDB: the first run has no
durations and keeps the fewest invocations; the second, with history, runs the slow model
that does not read the loader in a batch of its own while the loader runs, and ``--debug``
says why."""

from __future__ import annotations

import json
from datetime import datetime

from helpers import BRAID_PACKAGE, Project

FILES = {
    **BRAID_PACKAGE,
    "models/m1.sql": "{{ config(materialized='table') }} "
                     "select count(*) as n from {{ source('py', 'loader') }}",
    "models/slow.sql": "{{ config(materialized='table') }} "
                       "select sum(range % 7) as s from range(150000000)",
    "models/sources.yml": """
        version: 2
        sources:
          - name: py
            schema: py
            tables:
              - name: loader
                config: {meta: {braid: {python: work.loader}}}
        """,
    "python_assets/work.py": """
        import time

        import pandas as pd


        def loader():
            time.sleep(3)  # an API call, say: no dbt input, read by m1 only
            return pd.DataFrame({"x": [1, 2, 3]})
        """,
}


def _times(project: Project) -> tuple[dict[str, dict], int]:
    data = json.loads((project.root / "target/braid/run_results.json").read_text())
    found = {r["name"]: r for r in data["results"]}
    return found, data["invocations"]


def _debug_plan(stdout: str) -> list[str]:
    """The lines of ``--debug``'s ``braid plan:`` block, without their timestamps."""
    lines = [line.split("  ", 1)[-1].strip() for line in stdout.splitlines()]
    start = lines.index("braid plan:") + 1
    found = []
    for line in lines[start:]:
        if not (line.startswith(("dbt[", "python  ", "windows "))):
            break
        found.append(line)
    return found


def _moment(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def test_history_splits_the_batch_a_loader_would_hold_back(make_project) -> None:
    project = make_project(FILES)
    assert project.braid("deps").returncode == 0
    first = project.braid("run", "--debug")
    assert first.returncode == 0, first.stdout + first.stderr
    found, invocations = _times(project)
    assert invocations == 1  # no history yet: the fewest invocations
    assert "history has no duration for" in first.stdout, first.stdout
    # the whole batch waited for the loader: slow started after it ended
    assert _moment(found["slow"]["started_at"]) >= _moment(found["loader"]["completed_at"])

    second = project.braid("run", "--debug")
    assert second.returncode == 0, second.stdout + second.stderr
    found, invocations = _times(project)
    assert invocations == 2, second.stdout
    assert "braid: dbt batch 1 of 2 (1 nodes): split off from the next batch: 1 of its 2 " \
           "nodes need none of the Python assets it waits for (python.proj.loader" \
           in second.stdout, second.stdout
    assert "braid: dbt batch 2 of 2 (1 nodes): waits for python.proj.loader" in second.stdout
    # the plan --debug prints is the one that ran: history's split included
    assert _debug_plan(second.stdout) == ["python  python.proj.loader",
                                          "dbt[0]  model.proj.slow",
                                          "dbt[1]  model.proj.m1"], second.stdout
    # slow ran while the loader did; m1 after both
    assert _moment(found["slow"]["started_at"]) < _moment(found["loader"]["completed_at"])
    assert _moment(found["m1"]["started_at"]) >= _moment(found["loader"]["completed_at"])
    assert project.sql("select n from main.m1") == [(3,)]
