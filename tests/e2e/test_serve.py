"""``braid serve`` (issue 15, point 2): the real server as a process, its JSON API with real
launched runs on DuckDB, the refused requests, and the page driving a run in Chromium."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from helpers import BRAID, copy_integration_project
from test_catalog import ARTIFACTS, PREDICTED, _severe, _shown, driver  # noqa: F401

TOKEN = "test-token-0123456789"


@dataclass
class Served:
    root: Path
    url: str
    process: subprocess.Popen[str]
    env: dict[str, str]

    def request(self, method: str, path: str, body: Any = None, token: str | None = TOKEN,
                headers: dict[str, str] | None = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token is not None:
            request.add_header("Authorization", f"Bearer {token}")
        for key, value in (headers or {}).items():
            request.add_header(key, value)
        try:
            with urllib.request.urlopen(request, timeout=60) as reply:
                raw = reply.read()
                status = reply.status
        except urllib.error.HTTPError as err:
            raw, status = err.read(), err.code
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw.decode()

    def wait(self, run_id: str, timeout: float = 300) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        seen = set()
        while time.monotonic() < deadline:
            status, state = self.request("GET", f"/api/runs/{run_id}")
            assert status == 200, state
            seen.add(state["status"])
            if state["status"] not in ("queued", "running"):
                state["seen"] = seen
                return state
            time.sleep(0.3)
        raise AssertionError(f"run {run_id} did not finish")


def start_serve(root: Path, env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    """``braid serve`` on a free port as a real process, and the line announcing its URL."""
    process = subprocess.Popen([BRAID, "serve", "--port", "0", "--profiles-dir", str(root)],
                               cwd=root, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    line = ""
    deadline = time.monotonic() + 120
    while "http://" not in line:
        assert process.poll() is None and time.monotonic() < deadline, line
        line = process.stdout.readline()
    return process, line


def stop(process: subprocess.Popen[str]) -> None:
    """Ctrl-C to the server, which must then exit (on a loaded machine that may take a
    while); killed if it does not, so a failed test leaves no server running."""
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=120)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = copy_integration_project(tmp_path_factory.mktemp("serve") / "it")
    env = {**os.environ, "BRAID_DUCKDB_PATH": str(root / "db.duckdb"),
           "BRAID_SERVE_TOKEN": TOKEN, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    for args in (("deps",), ("seed",)):
        done = subprocess.run([BRAID, *args, "--profiles-dir", str(root)], cwd=root, env=env,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
    process, line = start_serve(root, env)
    url = re.search(r"http://127\.0\.0\.1:\d+", line).group(0)
    assert TOKEN not in line  # a token given in the environment is not printed
    yield Served(root, url, process, env)
    stop(process)


def test_the_api_launches_a_run_that_is_the_command_lines(served: Served) -> None:
    status, assets = served.request("GET", "/api/assets")
    assert status == 200 and PREDICTED in {a["unique_id"] for a in assets}
    status, run = served.request("POST", "/api/runs", {"command": "run",
                                                       "select": "+predicted_orders"})
    assert status == 202, run
    state = served.wait(run["run_id"])
    assert state["status"] == "success", state
    # the same results, history and artifacts as from the command line
    results = json.loads((served.root / "target/braid/run_results.json").read_text())
    assert results["run_id"] == run["run_id"]
    assert {r["name"] for r in results["results"]} >= {"predicted_orders", "fct_daily_orders"}
    status, detail = served.request("GET", f"/api/runs/{run['run_id']}")
    assert status == 200 and detail["status"] == "success"
    assert {n["name"]: n["status"] for n in detail["nodes"]}["predicted_orders"] == "success"
    status, asset = served.request("GET", f"/api/assets/{PREDICTED}")
    assert status == 200 and asset["history"], served.request("GET", "/api/catalog")[1].get(
        "note")
    assert asset["history"][0]["run_id"] == run["run_id"]
    status, runs = served.request("GET", "/api/runs")
    assert run["run_id"] in {r["run_id"] for r in runs}


def test_refused_requests_run_nothing(served: Served) -> None:
    before = len(list((served.root / "target/braid/runs").glob("*.log"))) \
        if (served.root / "target/braid/runs").exists() else 0
    assert served.request("POST", "/api/runs", {"command": "run"}, token=None)[0] == 401
    assert served.request("POST", "/api/runs", {"command": "run"}, token="wrong")[0] == 401
    assert served.request("POST", "/api/runs", {"command": "run"},
                          headers={"Origin": "http://evil.example"})[0] == 403
    assert served.request("GET", "/api/assets", headers={"Host": "evil.example:80"})[0] == 403
    status, reply = served.request("POST", "/api/runs", {"command": "seed"})
    assert status == 400 and "command must be one of run, build" in reply["error"]
    status, reply = served.request("POST", "/api/runs", {"select": "--project-dir /etc"})
    assert status == 400 and "not a selection word" in reply["error"]
    status, reply = served.request("POST", "/api/runs/not-the-last/retry", {})
    assert status == 409 and "only the last run can be retried" in reply["error"]
    assert served.request("GET", "/api/assets/model.nope.nope")[0] == 404
    # no path reaches a file: there is no file serving at all
    for path in ("/../../etc/passwd", "/api/assets/../../../etc/passwd", "/profiles.yml",
                 "/target/braid/run_results.json"):
        status, reply = served.request("GET", path)
        assert status == 404 and "root:" not in str(reply), (path, reply)
    after = len(list((served.root / "target/braid/runs").glob("*.log"))) \
        if (served.root / "target/braid/runs").exists() else 0
    assert after == before


def test_a_refused_request_leaves_a_kept_alive_connection_usable(served: Served) -> None:
    """An unauthorized POST's body is read before the 401, so the next request on the same
    HTTP/1.1 connection is answered as itself (not parsed out of the leftover body)."""
    import http.client

    host, port = served.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        body = json.dumps({"command": "run", "select": "x" * 5000})
        connection.request("POST", "/api/runs", body=body,
                           headers={"Content-Type": "application/json"})
        first = connection.getresponse()
        assert first.status == 401 and b"token" in first.read()
        connection.request("GET", "/api/assets")
        second = connection.getresponse()
        assert second.status == 200
        assert PREDICTED in {a["unique_id"] for a in json.loads(second.read())}
    finally:
        connection.close()
    # a body announced too large is not read at all: 413, and the connection is closed
    import socket

    with socket.create_connection((host, int(port)), timeout=30) as raw:
        raw.sendall(f"POST /api/runs HTTP/1.1\r\nHost: {host}:{port}\r\n"
                    "Content-Length: 2000000\r\n\r\n".encode())
        answer = raw.recv(4096).decode()
    assert answer.startswith("HTTP/1.1 413"), answer


def test_a_launch_while_the_target_is_held_is_refused_with_409(served: Served) -> None:
    """Another process holds the target's run lock (as a braid run in a terminal would):
    the launch is refused with the holder named, and nothing starts."""
    from dbt_braid.execution.run_lock import FileLock, this_process

    lock = FileLock(served.root / "target/braid/run-duckdb.lock")
    lock.acquire(this_process("braid run", "held-by-test"), "the test")
    try:
        status, reply = served.request("POST", "/api/runs", {"command": "run"})
    finally:
        lock.release()
    assert status == 409, reply
    assert "is being run by `braid run`" in reply["error"], reply
    assert f"pid {os.getpid()}" in reply["error"], reply


def test_the_served_page_launches_a_run_and_shows_it(served: Served, driver) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By

    driver.get(f"{served.url}/?token={TOKEN}#/asset/{PREDICTED}")
    _shown(driver, "asset-name", "predicted_orders")
    assert _severe(driver) == []
    before = len(driver.find_elements(By.CSS_SELECTOR, "#history tr.history-row"))
    driver.find_element(By.ID, "run-node").click()
    _shown(driver, "live-title")
    deadline = time.monotonic() + 300
    while "Finished." not in driver.find_element(By.ID, "live-view").text:
        assert time.monotonic() < deadline
        time.sleep(0.5)
    text = driver.find_element(By.ID, "live-view").text
    assert "success" in text and "predicted_orders" in text
    assert "predicting 30 days" in driver.find_element(By.ID, "live-log").text
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / "serve-live.png"))
    driver.find_element(By.ID, "live-reload").click()
    _shown(driver, "run-title", "braid run")
    driver.get(f"{served.url}/#/asset/{PREDICTED}")
    _shown(driver, "asset-name", "predicted_orders")
    after = len(driver.find_elements(By.CSS_SELECTOR, "#history tr.history-row"))
    assert after == before + 1
    assert _severe(driver) == []


def test_a_generated_token_is_printed_in_the_url_and_works(served: Served) -> None:
    """Without BRAID_SERVE_TOKEN the server makes a token and prints the page's URL with it;
    that token, and no other, is accepted."""
    env = {k: v for k, v in served.env.items() if k != "BRAID_SERVE_TOKEN"}
    process, line = start_serve(served.root, env)
    try:
        found = re.search(r"(http://127\.0\.0\.1:\d+)/\?token=([\w-]{20,})", line)
        assert found, line
        other = Served(served.root, found.group(1), process, env)
        assert other.request("POST", "/api/runs", {"command": "nope"})[0] == 401
        status, reply = other.request("POST", "/api/runs", {"command": "nope"},
                                      token=found.group(2))
        assert status == 400 and "command must be one of" in reply["error"]
    finally:
        stop(process)
    assert process.returncode == 0


def test_serve_runs_due_schedules_once_a_tick(tmp_path: Path, driver) -> None:  # noqa: F811
    """Issue 16, point 5: with schedules in braid.yml, braid serve checks them (here every
    second: BRAID_SERVE_TICK) and runs what is due as braid run --due would; the pages'
    data carries each schedule with its next and last run."""
    root = copy_integration_project(tmp_path / "it")
    (root / "braid.yml").write_text(
        "schedules:\n  - name: orders_often\n    cron: '* * * * *'\n    select: +fct_orders\n")
    env = {**os.environ, "BRAID_DUCKDB_PATH": str(root / "db.duckdb"),
           "BRAID_SERVE_TOKEN": TOKEN, "BRAID_SERVE_TICK": "1",
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    for args in (("deps",), ("seed",)):
        done = subprocess.run([BRAID, *args, "--profiles-dir", str(root)], cwd=root, env=env,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
    process, line = start_serve(root, env)
    try:
        served = Served(root, re.search(r"http://127\.0\.0\.1:\d+", line).group(0), process,
                        env)
        deadline = time.monotonic() + 180
        while True:
            assert time.monotonic() < deadline, "the schedule never ran"
            status, data = served.request("GET", "/api/catalog")
            assert status == 200
            recorded = [r for r in data["runs"] if r.get("schedule") == "orders_often"]
            if recorded:
                break
            time.sleep(1)
        assert recorded[0]["status"] == "success" and recorded[0]["selection"] == \
            "--select +fct_orders"
        (schedule,) = data["schedules"]
        assert schedule["name"] == "orders_often" and schedule["last_result"] == "success"
        assert schedule["last_run_id"] == recorded[0]["run_id"] and schedule["next"]
        # the Runs page lists the schedule, its last run linked to that run
        from selenium.webdriver.common.by import By

        driver.get(f"{served.url}/#/runs")
        _shown(driver, "schedules")
        row = driver.find_element(By.CSS_SELECTOR, "#schedules tr.schedule-row").text
        assert "orders_often" in row and "success" in row and "* * * * *" in row
        assert _severe(driver) == []
    finally:
        stop(process)


# ---- issue 25, point 3: reload, nothing to retry, cancel, dropped clients, the badge -------


def _health(served: Served, uid: str) -> str:
    status, asset = served.request("GET", f"/api/assets/{uid}")
    assert status == 200, asset
    return str(asset["health"])


def _status_states(served: Served) -> dict[str, str]:
    done = subprocess.run([BRAID, "status", "--output", "json", "--profiles-dir",
                           str(served.root)], cwd=served.root, env=served.env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return {r["name"]: r["state"] for r in rows}


def _until(check: Any, timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.5)


def test_an_edit_of_an_assets_code_makes_it_stale_in_the_api_as_in_braid_status(
        served: Served) -> None:
    """The server parses the project again when its files change: after an edit of
    predicted_orders' function the API says stale, as ``braid status`` does; the edit
    undone, both say fresh again. A parse that fails keeps the last good one, with a note."""
    source = served.root / "python_assets" / "forecast.py"
    original = source.read_text()
    assert _health(served, PREDICTED) == "fresh"
    edited = original.replace("predict: horizon_days must be at least 1",
                              "predict: the horizon must be at least one day")
    assert edited != original
    source.write_text(edited)
    try:
        assert _until(lambda: _health(served, PREDICTED) == "stale"), "never stale"
        assert _status_states(served)["predicted_orders"] == "stale"
    finally:
        source.write_text(original)
    assert _until(lambda: _health(served, PREDICTED) == "fresh"), "never fresh again"
    # a file saved half-edited: the last good parse stays, the page's note says why
    broken = served.root / "models" / "half_edited.yml"
    broken.write_text("models:\n  - name: [unclosed\n")
    try:
        note = _until(lambda: served.request("GET", "/api/catalog")[1].get("note"))
        assert note and note.startswith("the project was not parsed again: "), note
        assert "half_edited.yml" in note, note
        assert _health(served, PREDICTED) == "fresh"
    finally:
        broken.unlink()
    assert _until(lambda: not served.request("GET", "/api/catalog")[1].get("note"))


def test_a_retry_with_nothing_to_retry_says_so_and_launches_nothing(served: Served) -> None:
    """The last run succeeded: the server answers as ``braid retry`` does (its words, 200 as
    the command's exit 0) and starts no process."""
    results = json.loads((served.root / "target/braid/run_results.json").read_text())
    assert {r["status"] for r in results["results"]} <= {"success", "pass"}
    logs = set((served.root / "target/braid/runs").glob("*.log"))
    status, reply = served.request("POST", f"/api/runs/{results['run_id']}/retry", {})
    assert status == 200, reply
    assert reply["status"] == "nothing to retry" and reply["run_id"] is None
    assert set((served.root / "target/braid/runs").glob("*.log")) == logs
    done = subprocess.run([BRAID, "retry", "--profiles-dir", str(served.root)],
                          cwd=served.root, env=served.env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert reply["message"] in done.stdout


SLOW_YML = """
sources:
  - name: slow
    schema: "{{ target.schema }}_slow"
    tables:
      - name: slow_asset
        config:
          meta:
            braid:
              python: slow.wait
"""
SLOW_PY = '''
import time

import pandas as pd


def wait():
    time.sleep(30)
    return pd.DataFrame({"x": [1]})
'''


@contextmanager
def slow_asset(served: Served) -> Iterator[None]:
    """A Python asset that sleeps for 30 seconds, in the served project while it lasts."""
    (served.root / "models" / "slow.yml").write_text(SLOW_YML)
    (served.root / "python_assets" / "slow.py").write_text(SLOW_PY)
    try:
        yield
    finally:
        (served.root / "models" / "slow.yml").unlink()
        (served.root / "python_assets" / "slow.py").unlink()


def _launch_slow(served: Served) -> str:
    """slow_asset launched, once it is running (its process past the parse)."""
    status, run = served.request("POST", "/api/runs", {"select": "slow_asset"})
    assert status == 202, run
    assert _until(lambda: any(n["status"] == "running" for n in served.request(
        "GET", f"/api/runs/{run['run_id']}")[1]["nodes"]), 300), "never running"
    return str(run["run_id"])


def test_a_launched_run_is_cancelled_with_the_token(served: Served) -> None:
    """POST /api/runs/<id>/cancel (token required) sends SIGTERM: braid stops the run, which
    ends cancelled (exit 143); an ended run or one not launched here cannot be."""
    with slow_asset(served):
        run_id = _launch_slow(served)
        path = f"/api/runs/{run_id}/cancel"
        assert served.request("POST", path, {}, token=None)[0] == 401
        assert served.request("POST", path, {}, headers={"Origin": "http://evil.example"}
                              )[0] == 403
        status, reply = served.request("POST", path, {})
        assert status == 202 and reply["status"] == "cancelling", reply
        state = served.wait(run_id, timeout=120)
        assert state["status"] == "cancelled", state
        assert _until(lambda: served.request("GET", f"/api/runs/{run_id}")[1].get(
            "exit_code") == 143), served.request("GET", f"/api/runs/{run_id}")[1]
        status, reply = served.request("POST", path, {})
        assert status == 409 and "has already ended" in reply["error"], reply
        assert served.request("POST", "/api/runs/nope/cancel", {})[0] == 404
    launched = [r for r in served.request("GET", "/api/runs")[1] if r["run_id"] == run_id]
    assert launched and launched[0]["status"] == "cancelled", launched


def test_the_page_cancels_a_launched_run(served: Served, driver) -> None:  # noqa: F811
    """The live view's Cancel button, with the page's token: the run ends cancelled."""
    from selenium.webdriver.common.by import By

    with slow_asset(served):
        run_id = _launch_slow(served)
        driver.get(f"{served.url}/?token={TOKEN}#/live/{run_id}")
        _shown(driver, "cancel-run")
        driver.find_element(By.ID, "cancel-run").click()
        assert _until(lambda: "Finished." in driver.find_element(By.ID, "live-view").text,
                      120), driver.find_element(By.ID, "live-view").text
        assert "cancelled" in driver.find_element(By.ID, "live-title").text
        assert _severe(driver) == []


def test_a_dropped_connection_is_one_debug_line_not_a_traceback(served: Served) -> None:
    """A browser that goes away mid-answer (a reset connection) costs the server one debug
    line (with --debug) and no traceback; it answers the next request as ever."""
    import socket
    import struct

    process = subprocess.Popen([BRAID, "serve", "--port", "0", "--debug", "--profiles-dir",
                                str(served.root)], cwd=served.root, env=served.env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    line = ""
    while "http://" not in line:
        assert process.poll() is None, line
        line = process.stdout.readline()
    url = re.search(r"http://127\.0\.0\.1:\d+", line).group(0)
    host, port = url.removeprefix("http://").split(":")
    try:
        for _ in range(3):
            raw = socket.create_connection((host, int(port)), timeout=30)
            # closed with a reset as soon as the request is out: the answer has nowhere to go
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            raw.sendall(f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
            raw.close()
        time.sleep(1)
        other = Served(served.root, url, process, served.env)
        assert other.request("GET", "/api/assets")[0] == 200
    finally:
        stop(process)
    out = process.stdout.read()
    assert "Traceback" not in out and "BrokenPipeError" not in out.replace(
        "(BrokenPipeError)", ""), out
    assert "closed the connection before the answer was sent" in out, out


def _progress(path: Path, *events: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(e) + "\n" for e in events))


def test_the_badge_says_done_once_the_runs_end_is_recorded(tmp_path: Path) -> None:
    """The run's end in its progress file is its end: the state says so while the process
    (here one that lingers, as a run's teardown does) has not exited yet; a run ended
    without an end record is cancelled when asked, nothing to retry when a retry exits 0."""
    import sys

    from dbt_braid.catalog.launcher import Launched

    node = {"unique_id": "model.p.a", "name": "a", "kind": "model"}
    run = Launched("r1", ["run"], tmp_path / "r1.log", tmp_path / "r1.jsonl")
    run.process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        _progress(run.progress, {"event": "start", "nodes": [node]})
        assert run.state()["status"] == "running" and not run.finished()
        _progress(run.progress, {"event": "start", "nodes": [node]},
                  {"event": "finish", "status": "success",
                   "results": [{**node, "status": "success"}]})
        state = run.state()
        assert state["status"] == "success" and state["exit_code"] is None
        assert state["nodes"][0]["status"] == "success" and run.active and run.finished()
    finally:
        run.process.kill()
        run.process.wait()
    retried = Launched("r2", ["retry"], tmp_path / "r2.log", tmp_path / "r2.jsonl",
                       exit_code=0, extra={"retry_of": "r1"})
    assert retried.state()["status"] == "nothing to retry"
    cancelled = Launched("r3", ["run"], tmp_path / "r3.log", tmp_path / "r3.jsonl",
                         exit_code=-15, extra={"cancelled": True})
    assert cancelled.state()["status"] == "cancelled"
    failed = Launched("r4", ["run"], tmp_path / "r4.log", tmp_path / "r4.jsonl", exit_code=2)
    assert failed.state()["status"] == "error"


def test_pruning_keeps_the_configured_count_and_every_run_in_progress(tmp_path: Path) -> None:
    """braid.yml's runs.keep sets how many runs' files stay; a run still going (no end
    record, its process alive) stays however old, while a run that crashed (no end, its
    process gone) is pruned like any other; a bad runs.keep is one line naming the key."""
    from dbt_braid.builtins import progress
    from dbt_braid.core.errors import BraidUserError
    from dbt_braid.schedules import config

    folder = tmp_path / "target" / "braid" / "runs"
    gone = subprocess.Popen(["true"])
    gone.wait()
    for i in range(8):
        start = {"event": "start", "pid": os.getpid() if i == 0 else gone.pid}
        events = [start] if i in (0, 1) else [start, {"event": "finish"}]
        _progress(folder / f"r{i}.jsonl", *events)
        (folder / f"r{i}.log").write_text("console")
        os.utime(folder / f"r{i}.jsonl", (1_000_000 + i, 1_000_000 + i))
    (tmp_path / "braid.yml").write_text("runs:\n  keep: 3\n")
    assert progress.keep_count(tmp_path) == 3
    progress._prune(folder, progress.keep_count(tmp_path))
    kept = sorted(p.stem for p in folder.glob("*.jsonl"))
    # r0 is oldest but in progress (this process); r1 crashed long ago; r5-r7 are newest
    assert kept == ["r0", "r5", "r6", "r7"]
    assert sorted(p.stem for p in folder.glob("*.log")) == kept
    assert progress.keep_count(tmp_path / "nowhere") == progress.KEEP == 100
    for text, line in (("runs: {keep: 0}\n", "braid.yml: runs.keep: must be a whole number"),
                       ("runs: {kep: 5}\n", "braid.yml: runs: unknown key 'kep'; allowed: "
                                            "keep")):
        (tmp_path / "braid.yml").write_text(text)
        with pytest.raises(BraidUserError, match=re.escape(line)):
            config.read(tmp_path)
