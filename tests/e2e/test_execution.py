"""Execution against real dbt and DuckDB: failures, fail-fast, atomic writes, parallelism, IO."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest
from helpers import BRAID, SOURCE_P_FROM_A, Project


def results(project: Project) -> dict[str, dict]:
    data = json.loads((project.root / "target" / "braid" / "run_results.json").read_text())
    return {r["name"]: r for r in data["results"]}


FAILING = {
    "models/a.sql": "select 1 as id",
    "models/b.sql": "select * from {{ source('py', 'boom_out') }}",
    "models/c.sql": "select 2 as id",
    "models/d.sql": "select * from {{ source('py', 'fine') }}",
    "models/sources.yml": """
        version: 2
        sources:
          - name: py
            tables:
              - name: boom_out
                config: {meta: {braid: {python: assets.boom}}}
              - name: fine
                config: {meta: {braid: {python: assets.fine, depends_on: [a]}}}
        """,
    "python_assets/assets.py": """
        import pandas as pd


        def helper(n):
            raise ValueError(f"bad input {n}")


        def boom():
            return helper(42)


        def fine(a):
            return pd.DataFrame({"id": a["id"] + 10})
        """,
}


def test_failure_skips_downstream_and_runs_independent_branches(make_project) -> None:
    project = make_project(FAILING)
    done = project.braid("run")
    assert done.returncode == 1, done.stdout + done.stderr
    r = results(project)
    assert r["boom_out"]["status"] == "error"
    assert "ValueError: bad input 42" in r["boom_out"]["message"]
    assert r["b"]["status"] == "skipped"
    assert "boom_out" in r["b"]["message"]
    assert r["a"]["status"] == r["c"]["status"] == r["fine"]["status"] == "success"
    assert r["d"]["status"] == "success"
    assert project.sql("select id from d") == [(11,)]
    # the user's own traceback: their file and lines, not braid's internals
    output = done.stdout + done.stderr
    assert "python_assets/assets.py" in output
    assert 'raise ValueError(f"bad input {n}")' in output
    assert "return helper(42)" in output
    assert "dbt_braid/execution" not in output


def test_fail_fast_stops_everything_after_the_first_failure(make_project) -> None:
    project = make_project(FAILING)
    done = project.braid("run", "--fail-fast")
    assert done.returncode == 1
    r = results(project)
    assert r["boom_out"]["status"] == "error"
    # boom runs beside the first dbt batch (nothing in it needs boom); once boom has failed
    # nothing new starts: the Python asset after that batch and the second batch are skipped
    assert {r[n]["status"] for n in ("b", "d", "fine")} == {"skipped"}
    assert all("--fail-fast" in r[n]["message"] for n in ("b", "d", "fine"))
    # the first batch was already running; dbt cannot be stopped half-way in-process
    assert {r[n]["status"] for n in ("a", "c")} <= {"success", "skipped"}
    assert not project.tables() & {"b", "d", "fine"}


STREAM = {
    "models/downstream.sql": "select count(*) as n from {{ source('py', 'big') }}",
    "models/sources.yml": """
        version: 2
        sources:
          - name: py
            schema: landing
            tables:
              - name: big
                config: {meta: {braid: {python: stream.rows}}}
        """,
    "python_assets/stream.py": """
        import os
        import time
        from pathlib import Path

        import pyarrow as pa

        SCHEMA = pa.schema([("id", pa.int64()), ("gen", pa.string())])


        def rows():
            mode = os.environ.get("STREAM_MODE", "good")

            def batches():
                for i in range(10):
                    if i == 3 and mode == "fail":
                        raise RuntimeError("upstream API went away mid-stream")
                    if i == 3 and mode == "hang":
                        Path(os.environ["STREAM_MARKER"]).write_text("writing")
                        time.sleep(120)
                    yield pa.record_batch([pa.array(range(i * 1000, (i + 1) * 1000)),
                                           pa.array([mode] * 1000)], schema=SCHEMA)

            return pa.RecordBatchReader.from_batches(SCHEMA, batches())
        """,
}


def test_failed_write_leaves_previous_table_intact(make_project) -> None:
    project = make_project(STREAM)
    assert project.braid("run").returncode == 0
    assert project.sql("select count(*), min(gen) from landing.big") == [(10000, "good")]
    done = project.braid("run", env={"STREAM_MODE": "fail"})
    assert done.returncode == 1
    assert "upstream API went away mid-stream" in results(project)["big"]["message"]
    assert results(project)["downstream"]["status"] == "skipped"
    assert project.sql("select count(*), min(gen), max(gen) from landing.big") == [
        (10000, "good", "good")]


def test_killed_write_leaves_previous_table_intact(make_project, tmp_path) -> None:
    project = make_project(STREAM)
    assert project.braid("run").returncode == 0
    marker = tmp_path / "marker"
    env = {**os.environ, "STREAM_MODE": "hang", "STREAM_MARKER": str(marker),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    proc = subprocess.Popen([BRAID, "run", "--profiles-dir", str(project.root),
                             "--project-dir", str(project.root)], cwd=project.root, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert proc.poll() is None, "braid ended before the write began"
            assert time.monotonic() < deadline, "the write never began"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert project.sql("select count(*), max(gen) from landing.big") == [(10000, "good")]


PARALLEL = {
    "models/slow.sql": """
        {{ config(materialized='table') }}
        select sum(hash(i)) as h from range(150000000) t(i)
        """,
    "models/fast.sql": "{{ config(materialized='table') }} select 1 as id",
    "models/after.sql": "select * from {{ source('py', 'p') }}",
    "models/sources.yml": """
        version: 2
        sources:
          - name: py
            tables:
              - name: p
                config: {meta: {braid: {python: jobs.from_fast, depends_on: [fast]}}}
              - name: s1
                config: {meta: {braid: {python: jobs.sleepy, params: {tag: one}}}}
              - name: s2
                config: {meta: {braid: {python: jobs.sleepy, params: {tag: two}}}}
        """,
    "python_assets/jobs.py": """
        import time

        import pandas as pd


        def from_fast(fast):
            return fast


        def sleepy(tag):
            time.sleep(1.0)
            return pd.DataFrame({"tag": [tag]})
        """,
}


def _overlap(a: dict, b: dict) -> bool:
    return a["started_at"] < b["completed_at"] and b["started_at"] < a["completed_at"]


def test_independent_assets_run_in_parallel_up_to_threads(make_project) -> None:
    project = make_project(PARALLEL)
    done = project.braid("run", "-s", "s1", "s2", "--threads", "2")
    assert done.returncode == 0, done.stdout + done.stderr
    r = results(project)
    assert _overlap(r["s1"], r["s2"])
    done = project.braid("run", "-s", "s1", "s2", "--threads", "1")
    assert done.returncode == 0
    r = results(project)
    assert not _overlap(r["s1"], r["s2"])


def test_asset_does_not_wait_for_unrelated_dbt_nodes(make_project) -> None:
    project = make_project(PARALLEL)
    done = project.braid("run", "-s", "slow", "fast", "p", "after")
    assert done.returncode == 0, done.stdout + done.stderr
    r = results(project)
    assert r["slow"]["invocation"] == r["fast"]["invocation"] == 0
    assert r["after"]["invocation"] == 1
    # p reads only `fast`, so it starts while `slow` is still being built
    assert r["p"]["started_at"] < r["slow"]["completed_at"]
    assert r["p"]["completed_at"] <= r["after"]["started_at"]


TYPED = {
    "models/base.sql": "{{ config(materialized='table') }} select 1 as id, 'x' as label",
    "models/sources.yml": """
        version: 2
        sources:
          - name: py
            tables:
              - name: typed
                config:
                  meta:
                    braid:
                      python: typed.kinds
                      depends_on: {as_polars: base, as_arrow: base, as_pandas: base}
                      params: {factor: 3}
        """,
    "python_assets/typed.py": """
        import pandas as pd
        import polars as pl
        import pyarrow as pa


        def kinds(as_polars: pl.DataFrame, as_arrow: pa.Table, as_pandas, factor, context):
            seen = context.sql("select count(*) as n from base")
            return pl.DataFrame({
                "polars": [type(as_polars).__module__.split(".")[0]],
                "arrow": [type(as_arrow).__module__.split(".")[0]],
                "pandas": [type(as_pandas).__module__.split(".")[0]],
                "factor": [factor * int(seen["n"][0])],
                "run_id": [context.run_id],
                "target": [context.target["type"]],
                "name": [context.name],
            })
        """,
}


def test_inputs_arrive_as_annotated_frame_types_and_context_works(make_project) -> None:
    project = make_project(TYPED)
    done = project.braid("run")
    assert done.returncode == 0, done.stdout + done.stderr
    run_id = json.loads((project.root / "target/braid/run_results.json").read_text())["run_id"]
    assert project.sql("select * from py.typed") == [
        ("polars", "pyarrow", "pandas", 3, run_id, "duckdb", "typed")]


@pytest.mark.parametrize("command", [["seed"], ["parse"], ["compile"]])
def test_other_commands_pass_straight_to_dbt(make_project, command) -> None:
    project = make_project({"models/m.sql": "select 1 as id", "seeds/s.csv": "a\n1\n"})
    done = project.braid(*command)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Running with dbt=" in done.stdout or command == ["parse"]


BAD_MODEL_BEFORE_PYTHON = {
    "models/bad.sql": "select * from no_such_table",
    "models/after_bad.sql": "select * from {{ source('py', 'q') }}",
    "models/sources.yml": """
        version: 2
        sources:
          - name: py
            tables:
              - name: q
                config: {meta: {braid: {python: q.make, depends_on: [bad]}}}
        """,
    "python_assets/q.py": "def make(bad):\n    return bad\n",
}


def test_dbt_error_in_a_batch_is_exit_1_and_skips_downstream(make_project) -> None:
    project = make_project(BAD_MODEL_BEFORE_PYTHON)
    done = project.braid("run")
    assert done.returncode == 1
    r = results(project)
    assert r["bad"]["status"] == "error"
    assert r["q"]["status"] == "skipped" and r["after_bad"]["status"] == "skipped"


def test_batches_run_exactly_the_planned_nodes(make_project) -> None:
    """A model named like a folder: dbt's fqn: selector would also pull in the folder."""
    project = make_project({
        "models/a.sql": "select 1 as id",
        "models/a/b.sql": "select id + 1 as id from {{ source('py', 'p') }}",
        "models/a/unselected.sql": "select 3 as id",
        **SOURCE_P_FROM_A,
    })
    done = project.braid("run", "-s", "path:models/a.sql", "p", "b")
    assert done.returncode == 0, done.stdout + done.stderr
    r = results(project)
    assert set(r) == {"a", "p", "b"}
    assert (r["a"]["invocation"], r["b"]["invocation"]) == (0, 1)
    assert "unselected" not in project.tables()
    assert project.sql("select id from b") == [(2,)]


RETURNS = {
    "models/base.sql": "{{ config(materialized='table') }} select 1 as id, 'a' as g "
                       "union all select 2, 'a' union all select 3, 'b'",
    "models/never_built.sql": "select 1 as id",
    "models/sources.yml": """
        version: 2
        sources:
          - name: py
            tables:
              - name: grouped
                config: {meta: {braid: {python: r.grouped, depends_on: [base]}}}
              - name: nothing
                config: {meta: {braid: {python: r.nothing}}}
              - name: no_columns
                config: {meta: {braid: {python: r.no_columns}}}
              - name: untyped
                config: {meta: {braid: {python: r.untyped}}}
              - name: reads_missing
                config: {meta: {braid: {python: r.echo, depends_on: {x: never_built}}}}
        exposures:
          - name: maybe
            type: ml
            owner: {name: me}
            config: {meta: {braid: {python: r.maybe}}}
          - name: reader
            type: ml
            owner: {name: me}
            config: {meta: {braid: {python: r.echo, depends_on: {x: maybe}}}}
        """,
    "python_assets/r.py": """
        import os

        import pandas as pd


        def grouped(base):
            return base.groupby("g").agg(n=("id", "count"))


        def nothing():
            return None


        def no_columns():
            return pd.DataFrame()


        def untyped():
            return pd.DataFrame({"a": pd.Series([], dtype=object),
                                 "b": pd.Series([], dtype="int64")})


        def maybe():
            return None if os.environ.get("NOTHING") else {"version": 1}


        def echo(x):
            return x
        """,
}


def test_what_assets_return_is_stored_faithfully_or_refused_clearly(make_project) -> None:
    project = make_project(RETURNS)
    done = project.braid("run", "--exclude", "never_built")
    assert done.returncode == 1
    r = results(project)
    # a named index (groupby) is data: it becomes a column
    assert project.sql("select g, n from py.grouped order by g") == [("a", 2), ("b", 1)]
    assert "got builtins.NoneType" in r["nothing"]["message"]
    assert "has no columns" in r["no_columns"]["message"]
    assert "'a' have no type" in r["untyped"]["message"]
    assert "table " in r["reads_missing"]["message"]
    assert ("does not exist; build it first: braid run -s +never_built"
            in r["reads_missing"]["message"])
    # one line each, no traceback of braid's internals
    assert "Traceback" not in done.stdout + done.stderr
    assert r["reader"]["status"] == "success"


def test_an_exposure_returning_none_clears_its_stored_value(make_project) -> None:
    project = make_project(RETURNS)
    assert project.braid("run", "-s", "maybe", "reader").returncode == 0
    done = project.braid("run", "-s", "maybe", "reader", env={"NOTHING": "1"})
    assert done.returncode == 1
    r = results(project)
    assert r["maybe"]["status"] == "success"
    assert r["reader"]["status"] == "error"
    assert "has no stored value" in r["reader"]["message"]


def test_in_memory_duckdb_is_refused_before_anything_runs(make_project) -> None:
    project = make_project(RETURNS)
    project.write({"profiles.yml": """
        proj:
          target: dev
          outputs:
            dev:
              type: duckdb
              path: ":memory:"
        """})
    done = project.braid("run", "-s", "grouped", "base")
    assert done.returncode == 2
    assert "path ':memory:'" in done.stderr and "set path: in profiles.yml" in done.stderr
    assert "Traceback" not in done.stderr
    # a run with no Python asset needs no table IO: plain dbt works on :memory:
    assert project.braid("run", "-s", "base").returncode == 0
