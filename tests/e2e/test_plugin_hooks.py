"""Every hook of dbt_braid.hookspecs, each with a test of its own
(tests/unit/plugins/test_plugin_docs.py checks that none is missing).

One real run of a small project (model -> Python source -> model, so two dbt batches, plus
an exposure asset) with a recording plugin registered beside the built-ins; each test reads
what its hook received. The ``register_*`` hooks get runs of their own.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from dbt_braid import hookimpl
from dbt_braid.cli import main
from dbt_braid.plugin_host import get_plugin_manager
from helpers import SOURCE_P_FROM_A, Project, project_files

FILES = {
    **SOURCE_P_FROM_A,
    "models/a.sql": "select 1 as id union all select 2",
    "models/b.sql": "select count(*) as n from {{ source('py', 'p') }}",
    "models/exposures.yml": """
        version: 2
        exposures:
          - name: report
            type: analysis
            owner: {name: me}
            config: {meta: {braid: {python: reports.report, depends_on: [b]}}}
        """,
    "python_assets/reports.py": """
        def report(b):
            return {"rows": int(b["n"].iloc[0])}
        """,
}


class Recorder:
    """Records every call of every hook (name, arguments)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.lock = threading.Lock()

    def _add(self, name: str, **kwargs: Any) -> None:
        with self.lock:
            self.calls.append((name, kwargs))

    def of(self, name: str) -> list[dict[str, Any]]:
        return [kw for n, kw in self.calls if n == name]

    def order(self) -> list[str]:
        return [n for n, _ in self.calls]

    @hookimpl
    def start_run(self, run_id, command, plan, project, graph, report, warehouse):
        self._add("start_run", run_id=run_id, command=command, plan=plan, project=project,
                  graph=graph, report=report, warehouse=warehouse)

    @hookimpl
    def after_dbt_node(self, run_id, result):
        self._add("after_dbt_node", run_id=run_id, result=result,
                  thread=threading.current_thread().name)

    @hookimpl
    def before_dbt_node(self, run_id, unique_id):
        self._add("before_dbt_node", run_id=run_id, unique_id=unique_id,
                  thread=threading.current_thread().name)

    @hookimpl
    def before_dbt_batch(self, run_id, batch_index, unique_ids):
        self._add("before_dbt_batch", run_id=run_id, batch_index=batch_index,
                  unique_ids=unique_ids)

    @hookimpl
    def after_dbt_batch(self, run_id, batch_index, results):
        self._add("after_dbt_batch", run_id=run_id, batch_index=batch_index, results=results)

    @hookimpl
    def before_python_asset(self, asset, run_id):
        self._add("before_python_asset", asset=asset, run_id=run_id,
                  thread=threading.current_thread().name)

    @hookimpl
    def after_python_asset(self, asset, result, run_id):
        self._add("after_python_asset", asset=asset, result=result, run_id=run_id)

    @hookimpl
    def write_artifacts(self, report):
        self._add("write_artifacts", report=report,
                  run_results_written=(report.target_dir / "run_results.json").exists())

    @hookimpl
    def record_run(self, report, project, warehouse):
        self._add("record_run", report=report, project=project, warehouse=warehouse)

    @hookimpl
    def emit_lineage(self, report, project):
        self._add("emit_lineage", report=report, project=project)

    @hookimpl
    def finish_run(self, report):
        self._add("finish_run", report=report)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    root = tmp_path_factory.mktemp("hooks") / "proj"
    root.mkdir()
    project = Project(root)
    project.write({**project_files("proj"), **FILES})
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BRAID_TEST_DB", str(project.db))
        mp.setenv("BRAID_STORE_DIR", str(root / ".braid" / "store"))
        yield project


def run_in_process(project: Project, *args: str, plugin: Any = None) -> int:
    pm = get_plugin_manager()
    if plugin is not None:
        pm.register(plugin, name=f"test-{id(plugin)}")
    try:
        return main([*args, "--project-dir", str(project.root),
                     "--profiles-dir", str(project.root)])
    finally:
        if plugin is not None:
            pm.unregister(plugin)


@pytest.fixture(scope="module")
def recorded(project: Project) -> Recorder:
    recorder = Recorder()
    assert run_in_process(project, "run", "--threads", "2", plugin=recorder) == 0
    return recorder


def test_hook_start_run(recorded: Recorder) -> None:
    (call,) = recorded.of("start_run")
    assert recorded.order()[0] == "start_run"
    assert call["command"] == "run"
    assert call["plan"].python and len(call["plan"].batches) == 2
    assert call["project"].config.project_name == "proj"
    assert set(call["plan"].order) <= set(call["graph"].nodes)
    # the report as the run starts: its id and arguments, no results yet at that moment
    assert call["report"].run_id == call["run_id"] and call["report"].args["command"] == "run"
    assert call["warehouse"] is not None and hasattr(call["warehouse"], "transaction")


def test_hook_after_dbt_node(recorded: Recorder) -> None:
    calls = recorded.of("after_dbt_node")
    assert [(c["result"].name, c["result"].status) for c in calls] == [
        ("a", "success"), ("b", "success")]
    run_id = recorded.of("start_run")[0]["run_id"]
    assert {c["run_id"] for c in calls} == {run_id}
    # on dbt's worker thread, as the node finishes: before its batch is over
    assert all(c["thread"] != "MainThread" for c in calls)
    order = recorded.order()
    finished = [i for i, name in enumerate(order) if name == "after_dbt_node"]
    batches = [i for i, name in enumerate(order) if name == "after_dbt_batch"]
    assert finished[0] < batches[0] < finished[1] < batches[1]
    a = calls[0]["result"]
    assert a.started_at and a.completed_at and a.started_at <= a.completed_at


def test_hook_before_dbt_node(recorded: Recorder) -> None:
    calls = recorded.of("before_dbt_node")
    assert sorted(c["unique_id"] for c in calls) == ["model.proj.a", "model.proj.b"]
    run_id = recorded.of("start_run")[0]["run_id"]
    assert {c["run_id"] for c in calls} == {run_id}
    order = recorded.order()
    # each node starts inside its own batch: a after the first batch begins, b after the second
    firsts = [i for i, name in enumerate(order) if name == "before_dbt_batch"]
    starts = [i for i, name in enumerate(order) if name == "before_dbt_node"]
    assert firsts[0] < starts[0] < firsts[1] < starts[1]


def test_hook_before_dbt_batch(recorded: Recorder) -> None:
    calls = recorded.of("before_dbt_batch")
    assert [c["batch_index"] for c in calls] == [0, 1]
    assert calls[0]["unique_ids"] == ["model.proj.a"]
    assert calls[1]["unique_ids"] == ["model.proj.b"]
    run_id = recorded.of("start_run")[0]["run_id"]
    assert {c["run_id"] for c in calls} == {run_id}


def test_hook_after_dbt_batch(recorded: Recorder) -> None:
    calls = recorded.of("after_dbt_batch")
    assert [[(r.name, r.status) for r in c["results"]] for c in calls] == [
        [("a", "success")], [("b", "success")]]
    order = recorded.order()
    # batch 0 is over, and the Python source b reads is done, before batch 1 starts (p itself
    # may start as soon as dbt reports a finished, inside batch 0)
    second_before = len(order) - 1 - order[::-1].index("before_dbt_batch")
    assert order.index("after_dbt_batch") < second_before
    assert order.index("after_python_asset") < second_before


def test_hook_before_python_asset(recorded: Recorder) -> None:
    calls = recorded.of("before_python_asset")
    assert sorted(c["asset"].name for c in calls) == ["p", "report"]
    assert all(c["thread"].startswith("braid-py") for c in calls)


def test_hook_after_python_asset(recorded: Recorder) -> None:
    results = {c["asset"].name: c["result"] for c in recorded.of("after_python_asset")}
    assert results["p"].status == "success" and results["p"].rows_written == 2
    assert results["report"].status == "success"
    assert {c["run_id"] for c in recorded.of("after_python_asset")} == {
        recorded.of("start_run")[0]["run_id"]}
    assert results["p"].attempt == 1 and results["p"].attempts == []


def test_hook_write_artifacts(recorded: Recorder) -> None:
    (call,) = recorded.of("write_artifacts")
    report = call["report"]
    assert {r.name for r in report.results} == {"a", "b", "p", "report"}
    assert report.invocations == 2


def test_hook_record_run(recorded: Recorder, project: Project) -> None:
    (call,) = recorded.of("record_run")
    assert call["report"].run_id == recorded.of("start_run")[0]["run_id"]
    assert call["warehouse"] is not None and hasattr(call["warehouse"], "query")
    assert call["project"].config.project_name == "proj"


def test_hook_emit_lineage(recorded: Recorder) -> None:
    (call,) = recorded.of("emit_lineage")
    edges = set(call["report"].graph.edges)
    assert ("model.proj.a", "python.proj.p") in edges
    assert ("python.proj.p", "model.proj.b") in edges


def test_hook_finish_run(recorded: Recorder) -> None:
    (call,) = recorded.of("finish_run")
    order = recorded.order()
    assert order[-1] == "finish_run"
    assert order.index("write_artifacts") < order.index("record_run") \
        < order.index("emit_lineage") < order.index("finish_run")
    assert call["report"].success


class JsonLinesIO:
    """Stores an exposure asset's value as JSON lines, beside the project."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def load(self, ref: Any, annotation: Any = None) -> Any:
        return [json.loads(line) for line in (self.root / f"{ref.name}.jsonl").read_text()
                .splitlines()]

    def store(self, asset: Any, value: Any) -> int:
        rows = value if isinstance(value, list) else [value]
        (self.root / f"{asset.name}.jsonl").write_text("".join(json.dumps(v) + "\n"
                                                               for v in rows))
        return len(rows)


class JsonLinesPlugin:
    @hookimpl
    def register_io_managers(self, register):
        register("jsonl", lambda env: JsonLinesIO(env.project_dir))

    @hookimpl
    def register_executors(self, register):
        # replaces the built-in "threads" for this run: a shared-nothing one-worker pool
        register("threads", lambda threads: ThreadPoolExecutor(1, thread_name_prefix="solo"))


def test_hook_register_io_managers(project: Project) -> None:
    yml = project.root / "models" / "exposures.yml"
    original = yml.read_text()
    yml.write_text(original.replace("python: reports.report, depends_on: [b]",
                                    "python: reports.report, depends_on: [b], io: jsonl"))
    try:
        assert run_in_process(project, "run", "-s", "report", plugin=JsonLinesPlugin()) == 0
    finally:
        yml.write_text(original)
    assert (project.root / "report.jsonl").read_text() == '{"rows": 2}\n'


class CountingExecutor(Executor):
    """Runs each submitted call on a new thread and counts them."""

    submitted = 0

    def __init__(self, threads: int) -> None:
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="counted")

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[override]
        CountingExecutor.submitted += 1
        return self.pool.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.pool.shutdown(wait=wait, cancel_futures=cancel_futures)


class CountingPlugin:
    def __init__(self) -> None:
        self.threads: list[str] = []

    @hookimpl
    def register_executors(self, register):
        register("counting", CountingExecutor)

    @hookimpl
    def before_python_asset(self, asset, run_id):
        self.threads.append(threading.current_thread().name)


def test_hook_register_executors(project: Project, capsys) -> None:
    plugin = CountingPlugin()
    CountingExecutor.submitted = 0
    assert run_in_process(project, "run", "--executor", "counting", plugin=plugin) == 0
    assert CountingExecutor.submitted == 2
    assert len(plugin.threads) == 2 and all(t.startswith("counted") for t in plugin.threads)
    # a later registration of a name replaces the built-in one
    solo = JsonLinesPlugin()
    recorder = Recorder()
    get_plugin_manager().register(recorder, name="recorder-for-threads")
    try:
        assert run_in_process(project, "run", plugin=solo) == 0
    finally:
        get_plugin_manager().unregister(recorder)
    threads = {c["thread"] for c in recorder.of("before_python_asset")}
    assert threads and all(t.startswith("solo") for t in threads)
    # an executor nobody registered: exit 2, nothing runs
    capsys.readouterr()
    assert run_in_process(project, "run", "--executor", "nope") == 2
    assert ("--executor: unknown executor 'nope'; registered: dask, processes, threads"
            in capsys.readouterr().err)
    assert os.environ.get("BRAID_TEST_DB")
