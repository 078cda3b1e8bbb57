"""``--executor processes`` and ``--executor dask`` (issue 18): real braid runs on DuckDB,
with the calls in real worker processes (a forkserver pool; a two-worker Dask LocalCluster).

The driver loads and stores, the workers compute: the CPU-bound assets run at the same time
in processes other than braid's; their inputs arrive and their results land; log lines,
metadata, errors with their tracebacks, retries and timeouts behave as with threads; a worker
killed mid-call fails only its asset."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
from helpers import BRAID_PACKAGE, Project, signal_when

FILES = {
    **BRAID_PACKAGE,
    "models/a.sql": "{{ config(materialized='table') }} "
                    "select range as id from range(1, 2001)",
    "models/b.sql": "{{ config(materialized='table') }} "
                    "select count(*) as n, sum(total) as total from {{ source('py', 'cpu1') }}",
    "models/sources.yml": """
        version: 2
        sources:
          - name: py
            schema: py
            tables:
              - name: cpu1
                config: {meta: {braid: {python: work.cpu, depends_on: [a], params: {n: 1}}}}
              - name: cpu2
                config: {meta: {braid: {python: work.cpu, depends_on: [a], params: {n: 2}}}}
              - name: talks
                config: {meta: {braid: {python: work.talks, depends_on: [a]}}}
              # after both cpu assets: a hang holding one of the two slots from the start
              # would leave them one slot, one after the other, on a machine where each
              # takes under the hang's timeout
              - name: fails
                config: {meta: {braid: {python: work.fails, retries: 1,
                                        depends_on: [py.cpu1, py.cpu2]}}}
              - name: hangs
                config: {meta: {braid: {python: work.hangs, timeout: 1s,
                                        depends_on: [py.cpu1, py.cpu2]}}}
              - name: dies
                config: {meta: {braid: {python: work.dies}}}
        exposures:
          - name: sleeper
            type: ml
            owner: {name: me}
            config: {meta: {braid: {python: work.sleeper, io: pickle}}}
          - name: report
            type: ml
            owner: {name: me}
            config: {meta: {braid: {python: work.report, depends_on: [py.cpu1], io: pickle}}}
        """,
    "python_assets/work.py": """
        import logging
        import os
        import signal
        import time

        import pandas as pd

        log = logging.getLogger(__name__)


        def cpu(a: pd.DataFrame, n: int) -> pd.DataFrame:
            started = time.time()
            total = 0
            for _ in range(600):  # pure Python: holds the GIL for about a second
                total += sum(i * i % 7 for i in a["id"].tolist() * 10)
            return pd.DataFrame({"n": [n], "pid": [os.getpid()], "started": [started],
                                 "ended": [time.time()], "rows": [len(a)], "total": [total]})


        def talks(a, context):
            log.info("hello from pid %s", os.getpid())
            context.add_metadata(rows=len(a))
            try:
                context.sql("select 1")
                refused = ""
            except RuntimeError as exc:
                refused = str(exc)
            return pd.DataFrame({"a_relation": [context.ref("a")], "refused": [refused]})


        def fails(cpu1, cpu2):
            raise ValueError("bad input")


        def hangs(cpu1, cpu2):
            while True:
                time.sleep(0.05)


        def dies():
            os.kill(os.getpid(), signal.SIGKILL)


        def sleeper():
            from pathlib import Path

            Path(os.environ["SLEEPER_MARKER"]).write_text(str(os.getpid()))
            time.sleep(120)


        def report(cpu1: pd.DataFrame) -> dict:
            return {"pid": os.getpid(), "rows": int(cpu1["rows"][0])}
        """,
}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Project:
    from helpers import project_files

    root = tmp_path_factory.mktemp("executors") / "proj"
    made = Project(root)
    made.write({**project_files(), **FILES})
    done = braid(made, "deps")
    assert done.returncode == 0, done.stdout + done.stderr
    return made


def braid(project: Project, *args: str):
    env = {"BRAID_TEST_DB": str(project.db), "BRAID_STORE_DIR": str(project.root / "store")}
    return project.braid(*args, env=env)


def results(project: Project) -> dict[str, dict]:
    data = json.loads((project.root / "target/braid/run_results.json").read_text())
    return {r["name"]: r for r in data["results"]}


def check_remote_run(project: Project, executor: str) -> None:
    done = braid(project, "run", "--executor", executor, "--threads", "2",
                 "--exclude", "source:py.dies", "exposure:sleeper")
    output = done.stdout + done.stderr
    assert done.returncode == 1, output  # fails and hangs fail; the rest succeed
    found = results(project)
    for name in ("a", "cpu1", "cpu2", "talks", "b", "report"):
        assert found[name]["status"] == "success", (name, found[name], output)
    rows = {n: (pid, started, ended, count) for n, pid, started, ended, count in project.sql(
        "select n, pid, started, ended, rows from py.cpu1 union all "
        "select n, pid, started, ended, rows from py.cpu2")}
    assert set(rows) == {1, 2} and all(r[3] == 2000 for r in rows.values()), rows
    pids = {r[0] for r in rows.values()}
    # two worker processes, neither of them braid's, computing at the same time
    assert len(pids) == 2 and os.getpid() not in pids, rows
    (_, s1, e1, _), (_, s2, e2, _) = rows[1], rows[2]
    assert max(s1, s2) < min(e1, e2), f"the two calls did not overlap: {rows}"
    # the dbt model downstream read what the driver stored
    assert project.sql("select n, total from main.b") == project.sql(
        "select count(*), sum(total) from py.cpu1")
    # the worker's log line reached braid's console, under the asset's name
    assert "talks: hello from pid" in done.stdout, done.stdout
    talks_pid = done.stdout.split("talks: hello from pid ")[1].split()[0]
    assert int(talks_pid) in pids, (talks_pid, pids)  # one of the two workers
    assert f"talks: hello from pid {talks_pid}" in (project.root / "logs/dbt.log").read_text()
    # what the context collected in the worker is in history
    run_id = json.loads((project.root / "target/braid/run_results.json").read_text())["run_id"]
    metadata = project.sql("select metadata from braid_node_runs "
                           f"where run_id = '{run_id}' and name = 'talks'")
    assert [json.loads(m) for m, in metadata] == [{"rows": 2000}], metadata
    relation, refused = project.sql("select a_relation, refused from py.talks")[0]
    assert relation.endswith('."a"') or relation.endswith(".a"), relation
    assert refused.startswith(f"context.sql is not available under --executor {executor}")
    # the user's error, with their traceback, retried once as with threads
    assert found["fails"]["status"] == "error"
    assert found["fails"]["message"] == "ValueError: bad input"
    assert 'raise ValueError("bad input")' in done.stdout, done.stdout
    assert "attempt 1 of 2 failed (ValueError: bad input)" in done.stdout
    assert found["hangs"]["message"].startswith("timed out after 1s (meta.braid.timeout)")
    stored = project.root / "store"
    assert any(stored.rglob("report*")), list(stored.rglob("*"))


@pytest.mark.parametrize("executor, threads, lost", [
    # one call at a time: the killed worker takes Python's pool with it, the next call
    # gets a new one
    ("processes", "1", "the worker process running it died"),
    # two at once on a two-worker LocalCluster: only the killed worker's asset fails
    ("dask", "2", "the Dask worker running it was lost"),
])
def test_remote_executor_runs_assets_in_parallel_worker_processes(project: Project, executor,
                                                                  threads, lost) -> None:
    check_remote_run(project, executor)
    done = braid(project, "run", "--executor", executor, "--threads", threads,
                 "-s", "source:py.dies", "source:py.cpu2")
    found = results(project)
    assert done.returncode == 1, done.stdout + done.stderr
    assert found["dies"]["status"] == "error"
    assert found["dies"]["message"].startswith(lost), found
    assert found["cpu2"]["status"] == "success", found


def test_a_killed_dask_worker_stays_off_the_console(project: Project) -> None:
    """Issue 25 item 8: the console keeps the asset's one ERROR line (and the summary); what
    Dask itself logs of the dead worker (its scheduler and nanny live in braid's process) is
    in logs/dbt.log, and the worker started in its place prints nothing."""
    done = braid(project, "run", "--executor", "dask", "--threads", "2",
                 "-s", "source:py.dies", "+source:py.cpu2")
    assert done.returncode == 1, done.stdout + done.stderr
    found = results(project)
    assert found["dies"]["message"].startswith("the Dask worker running it was lost"), found
    assert found["cpu2"]["status"] == "success", found
    console = done.stdout + done.stderr
    assert console.count("ERROR python asset dies ") == 1, console
    raw = [line for line in console.splitlines()  # Dask's KilledWorker text links its docs
           if "distributed." in line.replace("distributed.dask.org", "") or "INFO:" in line]
    assert not raw, console
    log = (project.root / "logs/dbt.log").read_text()
    assert "distributed.scheduler: Task python.proj.dies" in log, log[-3000:]
    assert "distributed.nanny: " in log, log[-3000:]


def test_dask_scheduler_from_braid_yml_and_its_usage_errors(project: Project) -> None:
    from distributed import Client, LocalCluster

    yml = project.root / "braid.yml"
    # a scheduler braid did not start, named in braid.yml: the call runs on its worker
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        worker_pids = set(client.run(os.getpid).values())
        # braid.yml chooses the executor for runs without --executor, with its address
        yml.write_text(f"executor:\n  dask:\n    address: {cluster.scheduler_address}\n")
        try:
            done = braid(project, "run", "-s", "a", "source:py.cpu1")
        finally:
            yml.unlink()
    assert done.returncode == 0, done.stdout + done.stderr
    assert {pid for pid, in project.sql("select pid from py.cpu1")} <= worker_pids
    # a scheduler nobody runs: refused before anything runs, one line, exit 2
    before = project.sql("select started from py.cpu1")
    done = braid(project, "run", "--executor", "dask", "--dask-address",
                 "tcp://127.0.0.1:9", "-s", "a", "source:py.cpu1")
    assert done.returncode == 2, done.stdout + done.stderr
    error = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(error) == 1 and error[0].startswith(
        "--executor dask: cannot reach the Dask scheduler at tcp://127.0.0.1:9"), done.stderr
    assert project.sql("select started from py.cpu1") == before
    # a misspelt key of braid.yml's executor section, and --dask-address without dask
    yml.write_text("executor:\n  dask:\n    adress: tcp://127.0.0.1:8786\n")
    try:
        done = braid(project, "run", "--executor", "dask", "-s", "source:py.cpu1")
    finally:
        yml.unlink()
    assert done.returncode == 2
    assert "braid.yml: executor.dask: unknown key 'adress'; allowed: address" in done.stderr, \
        done.stderr
    done = braid(project, "run", "--dask-address", "tcp://127.0.0.1:8786", "-s", "a")
    assert done.returncode == 2
    assert "--dask-address is for --executor dask" in done.stderr, done.stderr
    yml.write_text("executor: [dask]\n")
    try:
        done = braid(project, "run", "-s", "a")
    finally:
        yml.unlink()
    assert done.returncode == 2
    assert "braid.yml: executor: must be an executor's name (threads, processes, dask) or " \
        "one name with its settings" in done.stderr, done.stderr


def test_a_signal_ends_the_worker_processes(project: Project, tmp_path) -> None:
    """SIGTERM while a call runs in a worker: braid stops as with threads (143, no
    traceback, the asset skipped) and ends the worker; it does not wait the call out."""
    marker = tmp_path / "sleeper_marker"
    began = time.monotonic()
    done = signal_when(project, marker, signal.SIGTERM, "--executor", "processes", "-s",
                       "exposure:sleeper", env={"BRAID_STORE_DIR": str(project.root / "store")})
    assert done.returncode == 143, done.stdout + done.stderr
    assert time.monotonic() - began < 60
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    assert results(project)["sleeper"]["status"] == "skipped"
    worker = int(marker.read_text())
    for _ in range(50):  # the worker is ended as braid exits
        try:
            os.kill(worker, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        raise AssertionError(f"worker process {worker} still runs after braid exited")
