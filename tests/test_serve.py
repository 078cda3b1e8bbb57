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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import BRAID, copy_integration_project
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


def test_old_progress_files_and_logs_are_pruned(tmp_path: Path) -> None:
    """A run every minute must not fill the disk: the newest KEEP runs' progress files (and
    braid serve's console logs beside them) stay, older ones go."""
    from dbt_braid.builtins import progress

    for i in range(progress.KEEP + 5):
        made = tmp_path / f"r{i:03d}.jsonl"
        made.write_text("{}\n")
        (tmp_path / f"r{i:03d}.log").write_text("console")
        os.utime(made, (1_000_000 + i, 1_000_000 + i))
    progress._prune(tmp_path)
    kept = sorted(p.stem for p in tmp_path.glob("*.jsonl"))
    assert len(kept) == progress.KEEP and kept[0] == "r005"
    assert sorted(p.stem for p in tmp_path.glob("*.log")) == kept
