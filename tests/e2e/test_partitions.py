"""Partitioned Python assets (issue 17), end to end with real braid runs on DuckDB: the
windows a run chooses, inputs read by window, writes that replace exactly a window, a
failed window that loses no other, ``braid retry`` of the failed windows only, dbt's
microbatch models in the same run, status (the integration project's monthly asset is
tested in tests/e2e/test_integration_project.py).

The clock is ``BRAID_NOW`` (braid's; dbt's microbatch models get explicit
``--event-time-start/-end`` where the test depends on their windows)."""

from __future__ import annotations

import json
import re
import subprocess

import jsonschema
import pytest
from helpers import (
    BRAID_PACKAGE,
    REPO,
    Project,
    copy_project,
    pg_profile,
    pg_rows,
    template_project,
)

UID = "python.proj.daily"

FILES = {
    **BRAID_PACKAGE,
    # three orders a day from 2026-01-01 to 2026-01-07; dbt's event_time says which day
    "models/orders.sql": """
        {{ config(materialized='table', event_time='order_date') }}
        select cast(d as date) as order_date, i as amount
        from range(date '2026-01-01', date '2026-01-08', interval 1 day) t(d),
             range(1, 4) s(i)
        """,
    # no event_time: a partitioned asset reads it whole
    "models/rates.sql": "{{ config(materialized='table') }} select 2 as factor",
    # dbt's own microbatch model over the asset's table, a day at a time
    "models/daily_doubled.sql": """
        {{ config(materialized='incremental', incremental_strategy='microbatch',
                  event_time='order_date', batch_size='day', begin='2026-01-01') }}
        {{ config(unique_key=('order_date' if target.type == 'postgres' else none)) }}
        select order_date, total * 2 as doubled from {{ source('py', 'daily') }}
        """,
    "models/sources.yml": """
        version: 2
        sources:
          - name: py
            schema: py
            tables:
              - name: daily
                config:
                  event_time: order_date
                  meta:
                    braid:
                      python: work.daily
                      depends_on: [orders, rates]
                      partitions: {event_time: order_date, batch_size: day,
                                   begin: 2026-01-01, lookback: 1}
        """,
    "python_assets/work.py": """
        import os
        import time

        import pandas as pd


        def daily(orders, rates, start, end, context):
            key = context.partition.key
            if key in os.environ.get("FAIL_DAY", "").split(","):
                raise RuntimeError(f"no data for {key}")
            time.sleep(float(os.environ.get("WINDOW_SLEEP", "0")))
            assert (start, end) == (context.partition.start, context.partition.end)
            context.add_metadata(input_rows=len(orders), input_days=orders["order_date"].nunique(),
                                 rates_rows=len(rates))
            if os.environ.get("EMPTY_DAY") == key:  # no data: untyped columns, no rows
                return pd.DataFrame({"order_date": [], "total": [], "version": []})
            day = start.date()
            if os.environ.get("OUTSIDE_DAY") == key:
                day = end.date()  # a row of the next window: refused
            return pd.DataFrame({"order_date": [day],
                                 "total": [int(orders["amount"].sum()) * int(rates["factor"][0])],
                                 "version": [os.environ.get("VERSION", "1")]})
        """,
}


@pytest.fixture(scope="module")
def deployed(tmp_path_factory) -> Project:
    """FILES after ``braid deps``, once for the module (tests start from copies)."""
    return template_project(tmp_path_factory, FILES, ("deps",))


@pytest.fixture(scope="module")
def first_run(deployed: Project, tmp_path_factory
              ) -> tuple[Project, subprocess.CompletedProcess[str], dict]:
    """A copy of ``deployed`` after the first run of the asset and what it reads (the clock
    2026-01-04T12:00Z), once for the module: its output, its run_results."""
    made = template_project(tmp_path_factory, {}, base=deployed)
    done, results = run(made, "run", "-s", "orders", "rates", "python:daily")
    assert done.returncode == 0, done.stdout + done.stderr
    return made, done, results


@pytest.fixture
def project(deployed: Project, make_project) -> Project:
    return copy_project(deployed, make_project)


@pytest.fixture
def ran(first_run, make_project) -> Project:
    """A copy of the project after its first run (``run -s +python:daily``)."""
    return copy_project(first_run[0], make_project)


def run(project: Project, *args: str, now: str = "2026-01-04T12:00:00Z", **env: str
        ) -> tuple[subprocess.CompletedProcess[str], dict]:
    done = project.braid(*args, env={"BRAID_NOW": now, **env})
    results = json.loads((project.root / "target/braid/run_results.json").read_text())
    return done, results


def asset(results: dict) -> dict:
    return next(r for r in results["results"] if r["unique_id"] == UID)


def windows(results: dict) -> list[str]:
    return [w["key"] for w in asset(results).get("windows", [])]


def days(project: Project, table: str = "py.daily") -> dict[str, int]:
    """Each day in ``table`` and how many rows it has."""
    return {str(d): n for d, n in project.sql(
        f"select order_date, count(*) from {table} group by 1 order by 1")}


def test_first_run_from_begin_then_from_the_last_window_done(first_run, make_project) -> None:
    _, done, results = first_run
    project = copy_project(first_run[0], make_project)
    # from begin up to the window holding now, each its own result
    assert windows(results) == ["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04"]
    assert asset(results)["status"] == "success"
    assert asset(results)["rows_written"] == 4
    assert all(w["status"] == "success" and w["rows_written"] == 1
               for w in asset(results)["windows"])
    assert len(asset(results)["batch_results"]["successful"]) == 4
    assert asset(results)["batch_results"]["successful"][0] == [
        "2026-01-01T00:00:00+00:00", "2026-01-02T00:00:00+00:00"]
    schema = json.loads((REPO / "plugin/src/dbt_braid/schemas/run_results.schema.json"
                         ).read_text())
    jsonschema.validate(results, schema)
    # each window's own lines are debug lines (issue 25 item 7): in dbt.log, not the console
    window_line = "Batch 1 of 4 START batch 2026-01-01 of python asset daily"
    assert window_line in (first_run[0].root / "logs/dbt.log").read_text()
    assert window_line not in done.stdout
    # the input with an event_time came filtered to the window, the one without came whole
    history = project.sql("select partition_key, status, metadata from braid_node_runs "
                          f"where unique_id = '{UID}' order by partition_key")
    assert [(k, s) for k, s, _ in history] == [(w, "success") for w in windows(results)]
    for _, _, metadata in history:
        assert json.loads(metadata) == {"input_rows": 3, "input_days": 1, "rates_rows": 1}
    assert days(project) == {f"2026-01-0{d}": 1 for d in range(1, 5)}
    assert project.sql("select total from py.daily order by order_date")[0] == (12,)

    # the next day: the last window done again (lookback 1: it was not over) and the new one
    done, results = run(project, "run", "-s", "python:daily", now="2026-01-05T01:00:00Z",
                        VERSION="2")
    assert done.returncode == 0, done.stdout + done.stderr
    assert windows(results) == ["2026-01-04", "2026-01-05"]
    # one copy of each day; the windows not computed kept their rows
    assert days(project) == {f"2026-01-0{d}": 1 for d in range(1, 6)}
    assert project.sql("select order_date::varchar, version from py.daily order by 1") == [
        ("2026-01-01", "1"), ("2026-01-02", "1"), ("2026-01-03", "1"), ("2026-01-04", "2"),
        ("2026-01-05", "2")]


def test_a_long_first_run_prints_one_asset_not_each_window(project: Project) -> None:
    """Issue 25 item 7: 69 daily windows from begin are one asset on the console: its START
    line, "k of N windows" progress now and then, each failed window named, its result
    line. Each window's own lines are in logs/dbt.log, and on the console with --debug."""
    done, results = run(project, "run", "-s", "orders", "rates", "python:daily",
                        now="2026-03-10T12:00:00Z", FAIL_DAY="2026-02-01,2026-02-20",
                        BRAID_STILL_RUNNING_AFTER="0.5")
    assert done.returncode == 1, done.stdout + done.stderr  # two windows failed
    assert len(asset(results)["windows"]) == 69
    console = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    progress = [line for line in console if "python asset daily still running" in line]
    rest = [line for line in console if line not in progress]
    ours = [line for line in rest if "python asset daily" in line]
    assert len(ours) == 4, "\n".join(ours)
    assert "START python asset daily" in ours[0]
    assert "ERROR creating batch 2026-02-01 of python asset daily" in ours[1]
    assert "ERROR creating batch 2026-02-20 of python asset daily" in ours[2]
    assert "PARTIAL SUCCESS python asset daily" in ours[3]
    # the first failed window with the user's traceback, the next one with its error
    text = "\n".join(rest)
    assert text.count('raise RuntimeError(f"no data for {key}")') == 1, text
    assert "RuntimeError: no data for 2026-02-01" in text
    assert "RuntimeError: no data for 2026-02-20" in text
    assert not [line for line in rest if "Batch" in line and "ERROR" not in line]
    # the header, two models, the asset, the failed windows and the summary: a screenful
    assert len(rest) < 45, text
    counts = [re.search(r"still running \(\d+s\): (\d+) of 69 windows done", line)
              for line in progress]
    assert progress and all(counts), progress
    done_k = [int(m[1]) for m in counts if m]
    assert done_k == sorted(done_k) and done_k[-1] <= 69, progress
    log = (project.root / "logs/dbt.log").read_text()
    assert log.count("START batch ") == 69 and log.count("OK created batch ") == 67
    assert log.count('raise RuntimeError(f"no data for {key}")') == 2  # both tracebacks
    debugged, _ = run(project, "run", "-s", "python:daily", "--debug", "--event-time-start",
                      "2026-01-01", "--event-time-end", "2026-01-03")
    assert debugged.returncode == 0, debugged.stdout + debugged.stderr
    assert "Batch 2 of 2 START batch 2026-01-02 of python asset daily" in debugged.stdout
    assert "Batch 2 of 2 OK created batch 2026-01-02 of python asset daily" in debugged.stdout
    # the plan --debug prints holds the windows that ran
    assert re.search(r"windows python\.\w+\.daily: 2 \(2026-01-01\.\.2026-01-02\)",
                     debugged.stdout), debugged.stdout


def test_backfill_three_days_then_rerun_one_with_dbt_microbatch(project: Project) -> None:
    """Issue 17 point 6 in small: the asset and dbt's microbatch model read by window in the
    same run, from the same --event-time-start/-end."""
    first = ["--event-time-start", "2026-01-01", "--event-time-end", "2026-01-04"]
    done, results = run(project, "run", *first, now="2026-01-07T00:00:00Z")
    assert done.returncode == 0, done.stdout + done.stderr
    assert windows(results) == ["2026-01-01", "2026-01-02", "2026-01-03"]
    dbt_results = json.loads((project.root / "target/run_results.json").read_text())
    model = next(r for r in dbt_results["results"] if r["unique_id"].endswith(".daily_doubled"))
    assert len(model["batch_results"]["successful"]) == 3
    assert days(project) == {"2026-01-01": 1, "2026-01-02": 1, "2026-01-03": 1}
    assert days(project, "main.daily_doubled") == days(project)

    done, results = run(project, "run", "--event-time-start", "2026-01-02",
                        "--event-time-end", "2026-01-03", now="2026-01-07T00:00:00Z",
                        VERSION="2")
    assert done.returncode == 0, done.stdout + done.stderr
    assert windows(results) == ["2026-01-02"]
    assert days(project) == {"2026-01-01": 1, "2026-01-02": 1, "2026-01-03": 1}
    assert days(project, "main.daily_doubled") == days(project)
    assert project.sql("select order_date::varchar, version from py.daily order by 1") == [
        ("2026-01-01", "1"), ("2026-01-02", "2"), ("2026-01-03", "1")]
    assert project.sql("select sum(doubled) from main.daily_doubled") == [(3 * 24,)]


def test_a_failed_window_loses_no_other_and_retry_reruns_only_it(project: Project) -> None:
    done, _ = run(project, "run", "-s", "+python:daily", "--event-time-start", "2026-01-01",
                  "--event-time-end", "2026-01-05")
    assert done.returncode == 0, done.stdout + done.stderr
    done, results = run(project, "run", "-s", "python:daily", "daily_doubled",
                        "--event-time-start", "2026-01-01", "--event-time-end", "2026-01-05",
                        "--threads", "3", FAIL_DAY="2026-01-03", VERSION="2")
    # dbt's partial success: exit 1, the dependents skipped, the other windows written
    assert done.returncode == 1, done.stdout + done.stderr
    result = asset(results)
    assert result["status"] == "partial success"
    assert [(w["key"], w["status"]) for w in result["windows"]] == [
        ("2026-01-01", "success"), ("2026-01-02", "success"), ("2026-01-03", "error"),
        ("2026-01-04", "success")]
    assert "no data for 2026-01-03" in result["message"]
    assert result["batch_results"]["failed"] == [["2026-01-03T00:00:00+00:00",
                                                   "2026-01-04T00:00:00+00:00"]]
    doubled = next(r for r in results["results"] if r["name"] == "daily_doubled")
    assert doubled["status"] == "skipped"
    assert "RuntimeError: no data for 2026-01-03" in done.stdout + done.stderr
    assert "PARTIAL SUCCESS" in done.stdout
    # the failed window's old rows stand; the others are the new version
    assert project.sql("select order_date::varchar, version from py.daily order by 1") == [
        ("2026-01-01", "2"), ("2026-01-02", "2"), ("2026-01-03", "1"), ("2026-01-04", "2")]
    status = project.braid("status", "--output", "json", env={"BRAID_NOW": "2026-01-06T00:00Z"})
    daily = next(json.loads(line) for line in status.stdout.splitlines()
                 if json.loads(line)["unique_id"] == UID)
    assert daily["state"] == "stale"
    assert daily["windows"] == {"total": 6, "done": 3, "stale": [], "failed": ["2026-01-03"],
                                "missing": ["2026-01-05..2026-01-06"]}
    table = project.braid("status", env={"BRAID_NOW": "2026-01-06T00:00Z"})
    assert "3/6 done; failed 2026-01-03; missing 2026-01-05..2026-01-06" in table.stdout
    history = project.braid("history", "-s", "python:daily", "-n", "4").stdout.splitlines()
    assert history[0].split()[:5] == ["completed_at", "node", "kind", "window", "status"]
    assert any(line.split()[2:6] == ["daily", "python", "2026-01-03", "error"]
               for line in history[2:]), history

    retried = project.braid("retry", env={"BRAID_NOW": "2026-01-06T00:00Z", "VERSION": "3"})
    assert retried.returncode == 0, retried.stdout + retried.stderr
    results = json.loads((project.root / "target/braid/run_results.json").read_text())
    assert windows(results) == ["2026-01-03"]
    assert {r["name"]: r["status"] for r in results["results"]} == {
        "daily": "success", "daily_doubled": "success"}
    assert project.sql("select order_date::varchar, version from py.daily order by 1") == [
        ("2026-01-01", "2"), ("2026-01-02", "2"), ("2026-01-03", "3"), ("2026-01-04", "2")]
    runs = project.sql(f"select status, count(*) from braid_node_runs where unique_id = '{UID}' "
                       "group by 1 order by 1")
    assert runs == [("error", 1), ("success", 8)]


def test_windows_run_in_parallel_up_to_threads(project: Project) -> None:
    done, results = run(project, "run", "-s", "+python:daily", "--threads", "4",
                        "--event-time-start", "2026-01-01", "--event-time-end", "2026-01-06",
                        WINDOW_SLEEP="0.5")
    assert done.returncode == 0, done.stdout + done.stderr
    spans = [(w["started_at"], w["completed_at"]) for w in asset(results)["windows"]]
    # the first window runs alone (it may create the table), the others side by side
    assert all(spans[0][1] <= start for start, _ in spans[1:])
    rest = spans[1:]
    assert max(start for start, _ in rest) < min(end for _, end in rest)


def test_rows_outside_the_window_are_refused_and_full_refresh_rebuilds(ran: Project
                                                                       ) -> None:
    project = ran
    project_db = project.db
    import duckdb

    con = duckdb.connect(str(project_db))
    con.execute("insert into py.daily values (date '2025-12-31', 0, 'stray')")
    con.close()
    done, results = run(project, "run", "-s", "python:daily", OUTSIDE_DAY="2026-01-04",
                        VERSION="2")
    assert done.returncode == 1
    bad = next(w for w in asset(results)["windows"] if w["key"] == "2026-01-04")
    assert "1 row(s) fall outside the window 2026-01-04" in bad["message"]
    assert "order_date = 2026-01-05" in bad["message"]
    assert project.sql("select version from py.daily where order_date = '2026-01-04'") == [
        ("1",)]
    # --full-refresh: from begin, and the table holds only what the windows returned
    done, results = run(project, "run", "-s", "python:daily", "--full-refresh", VERSION="3")
    assert done.returncode == 0, done.stdout + done.stderr
    assert windows(results)[0] == "2026-01-01"
    assert project.sql("select distinct version from py.daily") == [("3",)]
    assert "2025-12-31" not in days(project)


PG_PROFILE = pg_profile()


def test_windows_on_postgresql(make_project, pg_server, pg_database) -> None:
    """The same asset on PostgreSQL: windows in parallel, a failed one that keeps its old
    rows, retry of only that one, history's partition_key, and dbt's microbatch model."""
    files = {**FILES, "profiles.yml": PG_PROFILE, "models/orders.sql": """
        {{ config(materialized='table', event_time='order_date') }}
        select cast(d as date) as order_date, i as amount
        from generate_series(date '2026-01-01', date '2026-01-07', interval '1 day') t(d),
             generate_series(1, 3) s(i)
        """}
    project = make_project(files)
    env = {**pg_server.env(pg_database), "BRAID_NOW": "2026-01-05T00:00:00Z"}
    assert project.braid("deps", env=env).returncode == 0

    def rows(query: str) -> list[tuple]:
        return pg_rows(pg_server, pg_database, query)

    span = ["--event-time-start", "2026-01-01", "--event-time-end", "2026-01-05"]
    done = project.braid("run", *span, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert rows("select order_date::text, total, version from py.daily order by 1") == [
        (f"2026-01-0{d}", 12, "1") for d in range(1, 5)]
    assert rows("select count(*), sum(doubled) from public.daily_doubled") == [(4, 96)]
    done = project.braid("run", "-s", "python:daily", *span,
                         env={**env, "FAIL_DAY": "2026-01-02", "VERSION": "2"})
    assert done.returncode == 1, done.stdout + done.stderr
    assert rows("select order_date::text, version from py.daily order by 1") == [
        ("2026-01-01", "2"), ("2026-01-02", "1"), ("2026-01-03", "2"), ("2026-01-04", "2")]
    retried = project.braid("retry", env={**env, "VERSION": "3"})
    assert retried.returncode == 0, retried.stdout + retried.stderr
    assert rows("select order_date::text, version from py.daily order by 1") == [
        ("2026-01-01", "2"), ("2026-01-02", "3"), ("2026-01-03", "2"), ("2026-01-04", "2")]
    assert rows(f"select partition_key, status from braid_node_runs where unique_id = '{UID}' "
                "and status <> 'success'") == [("2026-01-02", "error")]
    # a plain run goes on from the latest window done, 2026-01-04, with lookback 1
    done = project.braid("run", "-s", "python:daily", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((project.root / "target/braid/run_results.json").read_text())
    assert windows(results) == ["2026-01-04", "2026-01-05"]
    assert rows("select count(*), count(distinct order_date) from py.daily") == [(5, 5)]


ROLLUP_BY_WINDOW = {
    "models/more.yml": """
        version: 2
        sources:
          - name: py2
            schema: py2
            tables:
              - name: rollup
                config:
                  meta:
                    braid:
                      python: more.rollup
                      depends_on: [daily]
                      partitions: {event_time: day, batch_size: day, begin: 2026-01-02}
        """,
    "python_assets/more.py": """
        import pandas as pd


        def rollup(daily, context):
            context.add_metadata(days=sorted(str(d)[:10] for d in daily["order_date"]))
            return pd.DataFrame({"day": [context.partition.start.date()],
                                 "total": [int(daily["total"].sum())]})
        """,
}


def test_a_partitioned_asset_reads_another_by_window(project: Project) -> None:
    project.write(ROLLUP_BY_WINDOW)
    listed = project.braid("ls", "-s", "python:rollup", "--output", "json")
    assert listed.returncode == 0, listed.stdout + listed.stderr
    done, results = run(project, "run", "-s", "+python:rollup", "--event-time-start",
                        "2026-01-01", "--event-time-end", "2026-01-04")
    assert done.returncode == 0, done.stdout + done.stderr
    rollup = next(r for r in results["results"] if r["name"] == "rollup")
    # begin 2026-01-02: the span's first day is before it, so not one of its windows
    assert [w["key"] for w in rollup["windows"]] == ["2026-01-02", "2026-01-03"]
    metadata = project.sql("select partition_key, metadata from braid_node_runs "
                           "where name = 'rollup' order by 1")
    assert [(k, json.loads(m)["days"]) for k, m in metadata] == [
        ("2026-01-02", ["2026-01-02"]), ("2026-01-03", ["2026-01-03"])]


def test_retry_of_a_full_refresh_replaces_only_the_failed_window(project: Project) -> None:
    done, _ = run(project, "run", "-s", "+python:daily", "--full-refresh", FAIL_DAY="2026-01-01")
    assert done.returncode == 1, done.stdout + done.stderr
    # the failed first window wrote nothing; the others went in by window
    assert sorted(days(project)) == ["2026-01-02", "2026-01-03", "2026-01-04"]
    retried = project.braid("retry", env={"BRAID_NOW": "2026-01-04T12:00:00Z"})
    assert retried.returncode == 0, retried.stdout + retried.stderr
    # the retry's one window does not rebuild the table: every day is there once
    assert days(project) == {f"2026-01-0{d}": 1 for d in range(1, 5)}


def test_a_span_before_begin_computes_no_window_and_keeps_the_table(ran: Project) -> None:
    project = ran
    before = days(project)
    done, results = run(project, "run", "-s", "python:daily", "--event-time-start",
                        "2025-06-01", "--event-time-end", "2025-07-01")
    assert done.returncode == 0, done.stdout + done.stderr
    assert asset(results)["status"] == "no-op"
    assert "no window to compute" in asset(results)["message"]
    assert days(project) == before


def test_a_window_without_rows_empties_it(ran: Project) -> None:
    project = ran
    done, results = run(project, "run", "-s", "python:daily", EMPTY_DAY="2026-01-04")
    assert done.returncode == 0, done.stdout + done.stderr
    assert [(w["key"], w["rows_written"]) for w in asset(results)["windows"]] == [
        ("2026-01-04", 0)]
    assert sorted(days(project)) == ["2026-01-01", "2026-01-02", "2026-01-03"]
    assert project.sql("select data_type from information_schema.columns "
                       "where table_name = 'daily' and column_name = 'order_date'") == [("DATE",)]


def _daily_status(project: Project, now: str = "2026-01-04T12:00:00Z") -> dict:
    done = project.braid("status", "--output", "json", env={"BRAID_NOW": now})
    assert done.returncode == 0, done.stdout + done.stderr
    return next(json.loads(line) for line in done.stdout.splitlines()
                if line.startswith("{") and json.loads(line)["unique_id"] == UID)


def test_windows_computed_before_an_upstream_change_are_stale_until_recomputed(
        ran: Project) -> None:
    """Issue 25 point 1: a window is fresh only when computed after its inputs last changed;
    a plain run still goes on from the last window (lookback), and ``status:stale+``
    recomputes exactly the stale windows."""
    assert _daily_status(ran)["state"] == "fresh"
    # the upstream is rebuilt; a plain run recomputes the newest window only
    done, results = run(ran, "run", "-s", "orders", "python:daily", VERSION="2")
    assert done.returncode == 0, done.stdout + done.stderr
    assert windows(results) == ["2026-01-04"]
    daily = _daily_status(ran)
    assert daily["state"] == "stale"
    assert daily["windows"] == {"total": 4, "done": 1, "stale": ["2026-01-01..2026-01-03"],
                                "failed": [], "missing": []}
    assert daily["reason"] == ("3 of 4 windows stale (2026-01-01..2026-01-03): upstream orders "
                               "was materialized after the window was computed")
    table = ran.braid("status", "-s", "python:daily", env={"BRAID_NOW": "2026-01-04T12:00:00Z"})
    assert "1/4 done; stale 2026-01-01..2026-01-03" in table.stdout
    # status:stale+ recomputes exactly those, and nothing fresh
    done, results = run(ran, "run", "-s", "status:stale+", "--exclude", "daily_doubled",
                        VERSION="3")
    assert done.returncode == 0, done.stdout + done.stderr
    assert windows(results) == ["2026-01-01", "2026-01-02", "2026-01-03"]
    assert {r["name"] for r in results["results"]} == {"daily"}
    assert ran.sql("select order_date::varchar, version from py.daily order by 1") == [
        ("2026-01-01", "3"), ("2026-01-02", "3"), ("2026-01-03", "3"), ("2026-01-04", "2")]
    daily = _daily_status(ran)
    assert (daily["state"], daily["windows"]["done"]) == ("fresh", 4)

    # the upstream's SQL changes: it is stale, so every window is, and all are recomputed
    path = ran.root / "models/orders.sql"
    path.write_text(path.read_text() + "\n-- the upstream changed\n")
    daily = _daily_status(ran)
    assert daily["windows"]["stale"] == ["2026-01-01..2026-01-04"]
    assert daily["reason"].endswith("upstream orders is stale")
    done, results = run(ran, "run", "-s", "status:stale+", "--exclude", "daily_doubled",
                        VERSION="4")
    assert done.returncode == 0, done.stdout + done.stderr
    assert {r["name"] for r in results["results"]} == {"orders", "daily"}
    assert windows(results) == ["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04"]
    assert _daily_status(ran)["state"] == "fresh"
