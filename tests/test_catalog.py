"""``braid catalog`` (issue 15, point 1): the page's data model as pure functions, and the one
offline page in a real headless Chromium (Debian's chromium and chromium-driver, driven by
Selenium with an explicit chromedriver path: nothing is downloaded).
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import BRAID, DBT, REPO, copy_integration_project
from dbt_braid.catalog import model, page
from dbt_braid.catalog.layout import layout

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ARTIFACTS = REPO / "target" / "test-artifacts"
PREDICTED = "python.braid_integration_tests.predicted_orders"
MODEL = "python.braid_integration_tests.order_forecast_model"


# ---- the data model, without a browser ------------------------------------------------


def synthetic_payload(n: int, seed: int = 3) -> dict[str, Any]:
    """``n`` nodes in eight layers, each reading one to three nodes of earlier layers."""
    rng = random.Random(seed)
    kinds = ["model"] * 6 + ["python", "snapshot"]
    nodes, edges, layers = [], [], [[] for _ in range(8)]
    for i in range(n):
        layer = 0 if i < 30 else rng.randrange(1, 8)
        kind = ("seed" if i % 2 else "source") if layer == 0 else rng.choice(kinds)
        uid = f"{'python.gen' if kind == 'python' else kind + '.gen'}.node_{i:03d}"
        nodes.append({"unique_id": uid, "name": f"node_{i:03d}", "resource_type": kind,
                      "package_name": "gen", "relation": f"db.main.node_{i:03d}"})
        layers[layer].append(uid)
    for layer in range(1, 8):
        earlier = [u for lay in layers[:layer] for u in lay]
        for uid in layers[layer]:
            for parent in rng.sample(earlier, rng.randint(1, min(3, len(earlier)))):
                edges.append({"from": parent, "to": uid})
    nodes.sort(key=lambda nd: nd["unique_id"])
    return {"nodes": nodes, "edges": sorted(edges, key=lambda e: (e["from"], e["to"]))}


def test_layout_is_left_to_right_and_never_overlaps_with_500_nodes() -> None:
    payload = synthetic_payload(500)
    places = layout(payload["nodes"], [(e["from"], e["to"]) for e in payload["edges"]])
    assert len(places) == 500 and len(set(places.values())) == 500
    for edge in payload["edges"]:
        assert places[edge["from"]][0] < places[edge["to"]][0]


def _nodes() -> list[dict[str, Any]]:
    return [
        {"unique_id": "model.p.a", "name": "a", "resource_type": "model", "package_name": "p"},
        {"unique_id": "python.p.b", "name": "b", "resource_type": "python", "package_name": "p",
         "tags": ["ml"], "description": ""},
        {"unique_id": "model.p.c", "name": "c", "resource_type": "model", "package_name": "p"},
        {"unique_id": "source.p.s.t", "name": "t", "resource_type": "source",
         "package_name": "p"},
    ]


def _row(run: str, uid: str, status: str, start: str, end: str, **more: Any) -> dict:
    return {"run_id": run, "unique_id": uid, "name": uid.rsplit(".", 1)[1], "kind": "model",
            "status": status, "started_at": start, "completed_at": end, **more}


def test_the_model_shapes_nodes_history_and_runs() -> None:
    history = [
        _row("r1", "model.p.a", "success", "2026-11-01 10:00:00", "2026-11-01 10:00:02",
             rows_written=5),
        _row("r1", "python.p.b", "error", "2026-11-01 10:00:02", "2026-11-01 10:00:03",
             message="boom", attempt=1),
        _row("r2", "python.p.b", "retried", "2026-11-02 10:00:00", "2026-11-02 10:00:01",
             attempt=1),
        _row("r2", "python.p.b", "success", "2026-11-02 10:00:02", "2026-11-02 10:00:04",
             attempt=2, rows_written=7, metadata=json.dumps({"rmse": 1.5, "url": "http://x"})),
    ]
    runs = [
        {"run_id": "r1", "command": "braid run", "status": "error",
         "started_at": "2026-11-01 10:00:00", "completed_at": "2026-11-01 10:00:05"},
        {"run_id": "r2", "command": "braid retry", "status": "success", "retry_of": "r1",
         "started_at": "2026-11-02 10:00:00", "completed_at": "2026-11-02 10:00:05"},
    ]
    statuses = {
        "model.p.a": {"last_run": "2026-11-01", "last_status": "success", "state": "stale",
                      "reason": "upstream b was materialized after it"},
        "python.p.b": {"last_run": "2026-11-02", "last_status": "success", "state": "fresh",
                       "reason": ""},
        "model.p.c": {"last_run": None, "last_status": None, "state": "stale",
                      "reason": "never materialized"},
    }
    data = model.catalog_data(
        title="t", nodes=_nodes(), statuses=statuses, history=history, runs=runs,
        edges=[("source.p.s.t", "model.p.a"), ("model.p.a", "python.p.b"),
               ("python.p.b", "model.p.c"), ("model.p.a", "model.p.gone")])
    nodes = {n["unique_id"]: n for n in data["nodes"]}
    assert {u: n["health"] for u, n in nodes.items()} == {
        "model.p.a": "stale", "python.p.b": "fresh", "model.p.c": "never",
        "source.p.s.t": "none"}
    # an edge to a node not on the page is left out; columns run left to right
    assert data["edges"] == [["model.p.a", "python.p.b"], ["python.p.b", "model.p.c"],
                             ["source.p.s.t", "model.p.a"]]
    assert nodes["source.p.s.t"]["col"] < nodes["model.p.a"]["col"] < nodes["python.p.b"][
        "col"] < nodes["model.p.c"]["col"]
    assert nodes["python.p.b"]["upstream"] == ["model.p.a"]
    assert nodes["python.p.b"]["downstream"] == ["model.p.c"]
    # history newest first, attempts apart, durations and metadata parsed
    b = nodes["python.p.b"]["history"]
    assert [(h["run_id"], h["status"], h["attempt"]) for h in b] == [
        ("r2", "success", 2), ("r2", "retried", 1), ("r1", "error", 1)]
    assert b[0]["seconds"] == 2.0 and b[0]["rows"] == 7
    assert b[0]["metadata"] == {"rmse": 1.5, "url": "http://x"}
    assert "description" not in nodes["python.p.b"]  # empty values are left out
    # runs newest first, each with its nodes in the order they started; the retry's link
    assert [r["run_id"] for r in data["runs"]] == ["r2", "r1"]
    assert data["runs"][0]["retry_of"] == "r1" and data["runs"][0]["seconds"] == 5.0
    assert [n["name"] for n in data["runs"][1]["nodes"]] == ["a", "b"]
    assert data["has_history"] is True
    assert model.catalog_data(title="t", nodes=_nodes(), edges=[], statuses=None)[
        "has_history"] is False


def test_history_and_runs_are_bounded_on_the_page() -> None:
    stamps = [f"2026-01-01 00:{i // 60:02d}:{i % 60:02d}" for i in range(100)]
    history = [_row(f"r{i:03d}", "model.p.a", "success", stamps[i], stamps[i])
               for i in range(100)]
    runs = [{"run_id": f"r{i:03d}", "started_at": stamps[i]} for i in range(100)]
    data = model.catalog_data(title="t", nodes=_nodes(), edges=[], statuses={},
                              history=history, runs=runs)
    a = next(n for n in data["nodes"] if n["unique_id"] == "model.p.a")
    assert len(a["history"]) == model.HISTORY_PER_NODE
    assert a["history"][0]["run_id"] == "r099"
    assert len(data["runs"]) == model.RUNS_KEPT and data["runs"][0]["run_id"] == "r099"


def test_a_partitioned_asset_has_its_windows_and_other_nodes_none() -> None:
    states = [("2026-01-01", "done"), ("2026-01-02", "done"), ("2026-01-03", "failed"),
              ("2026-01-04", "done"), ("2026-01-05", "missing"), ("2026-01-06", "missing")]
    summary = {"total": 6, "done": 3, "failed": ["2026-01-03"],
               "missing": ["2026-01-05..2026-01-06"]}
    data = model.catalog_data(title="t", nodes=_nodes(), edges=[], statuses={},
                              windows={"python.p.b": {"states": states, "summary": summary}})
    nodes = {n["unique_id"]: n for n in data["nodes"]}
    assert nodes["python.p.b"]["windows"] == {
        "states": [list(s) for s in states], "left_out": 0, "summary": summary}
    assert [u for u, n in nodes.items() if "windows" in n] == ["python.p.b"]
    json.dumps(data)  # JSON-ready
    # a long history of windows: the newest are kept, the older counted, the summary whole
    many = [(f"2025-{i:04d}", "done" if i % 7 else "failed") for i in range(1000)]
    entry = model.windows_entry(many, {"total": 1000})
    assert len(entry["states"]) == model.WINDOWS_KEPT
    assert entry["left_out"] == 1000 - model.WINDOWS_KEPT
    assert entry["states"][0] == list(many[1000 - model.WINDOWS_KEPT])
    assert entry["states"][-1] == list(many[-1]) and entry["summary"] == {"total": 1000}


def test_the_page_is_one_offline_file_and_the_data_cannot_end_its_tag() -> None:
    nodes = [{"unique_id": "model.p.x", "name": "</script><b>x</b>", "resource_type": "model",
              "package_name": "p", "description": "{{data}} {{js}}"}]
    text = page.to_html(model.catalog_data(title="t <i>", nodes=nodes, edges=[],
                                           statuses=None))
    blob = re.search(r'<script type="application/json" id="braid-catalog-data">(.*?)</script>',
                     text, re.S)
    assert blob and "</" not in blob.group(1)
    data = json.loads(blob.group(1))
    assert data["nodes"][0]["name"] == "</script><b>x</b>"
    assert data["nodes"][0]["description"] == "{{data}} {{js}}"  # placeholders left alone
    assert "<title>t &lt;i&gt;</title>" in text
    assert not re.search(r'(src|href)="(https?:)?//', text)  # nothing fetched from anywhere
    # the stylesheet and the script are the package's files, inlined whole
    static = REPO / "plugin/src/dbt_braid/catalog/static"
    assert (static / "catalog.css").read_text() in text
    assert "function renderAsset" in (static / "catalog.js").read_text()
    assert "function renderAsset" in text


# ---- in a real browser ----------------------------------------------------------------


@pytest.fixture(scope="module")
def driver():
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        why = "Debian's chromium and chromium-driver are not installed (scripts/test.sh does)"
        if os.environ.get("CI"):
            pytest.fail(f"the catalog must be tested in CI: {why}")
        pytest.skip(why)
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update",
                "--no-first-run", "--window-size=1600,1000"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    yield browser
    browser.quit()


def _severe(driver) -> list[dict[str, Any]]:
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def _shown(driver, element_id: str, starts: str = "") -> Any:
    """The element once its view is shown (a route change renders after the hashchange
    event, a moment after the click) and, with ``starts``, its text starts so."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def ready(d: Any) -> Any:
        found = d.find_elements(By.ID, element_id)
        if found and found[0].is_displayed() and found[0].text.startswith(starts):
            return found[0]
        return False

    return WebDriverWait(driver, 10).until(ready)


@pytest.fixture(scope="module")
def it_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The integration project run twice, a failure retried in between, and its catalog."""
    root = copy_integration_project(tmp_path_factory.mktemp("catalog") / "it")
    env = {**os.environ, "BRAID_DUCKDB_PATH": str(root / "db.duckdb")}

    def braid(*args: str, code: int = 0, more: dict[str, str] | None = None,
              command: str = BRAID) -> str:
        done = subprocess.run([command, *args, "--profiles-dir", str(root)], cwd=root,
                              env={**env, **(more or {})}, capture_output=True, text=True,
                              timeout=600)
        assert done.returncode == code, done.stdout + done.stderr
        return done.stdout + done.stderr

    braid("deps")
    braid("seed", command=DBT)  # plain dbt: the project's on-run-end recorder keeps it
    braid("run")
    # horizon_days 0 makes predict fail; the retry runs it and what it skipped
    braid("run", "--vars", "{forecast_horizon_days: 0}", code=1)
    braid("retry", "--vars", "{forecast_horizon_days: 30}")
    assert "catalog (" in braid("catalog")
    # braid lineage --format html is the same page (the catalog, opened on its graph)
    assert "lineage (html," in braid("lineage", "--format", "html")
    lineage_page = (root / "target/braid/lineage.html").read_text()
    assert 'id="braid-catalog-data"' in lineage_page and "function renderAsset" in lineage_page
    return root


def test_the_catalog_in_chromium(driver, it_catalog: Path) -> None:
    from selenium.webdriver.common.by import By

    path = it_catalog / "target" / "braid" / "catalog.html"
    lineage = json.loads((it_catalog / "target" / "braid" / "lineage.json").read_text())
    driver.get(path.as_uri())
    assert driver.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "true"
    assert driver.title == "braid catalog: braid_integration_tests"
    assert _severe(driver) == []

    # the graph: every node of lineage.json, Python assets told apart, coloured by health
    groups = driver.find_elements(By.CSS_SELECTOR, "#nodes g.node")
    assert {g.get_attribute("data-id") for g in groups} == {
        n["unique_id"] for n in lineage["nodes"]}
    python = {g.get_attribute("data-id") for g in groups
              if "kind-python" in g.get_attribute("class")}
    assert PREDICTED in python and MODEL in python
    assert all(re.search(r"health-(fresh|stale|failed|never|none)", g.get_attribute("class"))
               for g in groups)
    # fitted on load: every node inside the window, labels at least 10 px high
    width, height = driver.execute_script(
        "const b = document.getElementById('canvas').getBoundingClientRect();"
        "return [b.width, b.height];")
    for g in groups:
        box = driver.execute_script("return arguments[0].getBoundingClientRect().toJSON();", g)
        assert box["left"] >= 0 and box["right"] <= width + 1, box
        assert box["top"] >= 0 and box["bottom"] <= height + 60, box
    label = driver.find_element(By.CSS_SELECTOR, "#nodes g.node text.label")
    assert label.size["height"] >= 10

    # search and filters dim what does not match
    driver.find_element(By.ID, "search").send_keys("predicted")
    hits = driver.find_elements(By.CSS_SELECTOR, "#nodes g.node.hit")
    assert PREDICTED in {h.get_attribute("data-id") for h in hits}
    assert "match" in driver.find_element(By.ID, "count").text
    driver.find_element(By.ID, "search").clear()
    driver.execute_script(
        "const s = document.getElementById('filter-kind'); s.value = 'python';"
        "s.dispatchEvent(new Event('change'));")
    assert {h.get_attribute("data-id") for h in driver.find_elements(
        By.CSS_SELECTOR, "#nodes g.node.hit")} == python
    driver.execute_script(
        "const s = document.getElementById('filter-kind'); s.value = '';"
        "s.dispatchEvent(new Event('change'));")

    # a click opens the node's page, at its own URL
    driver.find_element(By.CSS_SELECTOR, f'#nodes g.node[data-id="{PREDICTED}"]').click()
    _shown(driver, "asset-name", "predicted_orders")
    assert driver.current_url.endswith("#/asset/" + PREDICTED)
    view = driver.find_element(By.ID, "asset-view")
    text = view.text
    assert "def predict(" in driver.find_element(By.CSS_SELECTOR, "#asset-view pre").get_attribute(
        "textContent")
    assert "forecast.predict" in text and "order_forecast_model" in text
    rows = driver.find_elements(By.CSS_SELECTOR, "#history tr.history-row")
    statuses = [r.find_element(By.CSS_SELECTOR, ".chip").text for r in rows]
    assert statuses.count("success") >= 2 and "error" in statuses, statuses
    assert driver.find_elements(By.CSS_SELECTOR, '#asset-view .plot[data-series="duration (s)"]')
    assert driver.find_elements(By.CSS_SELECTOR, '#asset-view .plot[data-series="rows written"]')
    assert driver.find_elements(
        By.CSS_SELECTOR, '#asset-view .plot[data-series="predicted_days"] circle.dot')
    assert "predicted_days" in text and "30" in text  # context.add_metadata, latest value
    columns = driver.find_element(By.ID, "columns").text
    assert "forecast_date" in columns and "predicted_revenue" in columns
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / "catalog-asset.png"))

    # a history row links to its run: the timeline, and the retry linked to what it retried
    rows[0].find_element(By.CSS_SELECTOR, "a").click()
    _shown(driver, "run-title", "braid retry")
    assert "#/run/" in driver.current_url
    assert driver.find_elements(By.CSS_SELECTOR, "svg.timeline rect.bar")
    driver.find_element(By.ID, "retry-of").click()
    _shown(driver, "run-title", "braid run")
    assert driver.find_elements(By.CSS_SELECTOR, "svg.timeline rect.bar.error")
    driver.save_screenshot(str(ARTIFACTS / "catalog-run.png"))

    driver.get(path.as_uri() + "#/runs")
    _shown(driver, "runs")
    # braid's three runs, and the seed the project's on-run-end recorder kept
    runs = [r.text for r in driver.find_elements(By.CSS_SELECTOR, "#runs tr.run-row")]
    assert len(runs) == 4 and sum("braid" in r for r in runs) == 3, runs
    driver.get(path.as_uri())
    driver.save_screenshot(str(ARTIFACTS / "catalog.png"))
    shutil.copy(path, ARTIFACTS / "catalog.html")
    assert _severe(driver) == []


PARTITIONED_FILES = {
    "packages.yml": f"packages:\n  - local: {REPO}\n",
    "models/orders.sql": """
        {{ config(materialized='table', event_time='order_date') }}
        select cast(d as date) as order_date, 10 as amount
        from range(date '2026-01-01', date '2026-01-07', interval 1 day) as t(d)
        """,
    "models/sources.yml": """
        version: 2
        sources:
          - name: py
            tables:
              - name: daily
                config: {meta: {braid: {python: work.daily, depends_on: [orders],
                                        partitions: {event_time: order_date, batch_size: day,
                                                     begin: "2026-01-01"}}}}
        """,
    "python_assets/work.py": """
        import os

        import pandas as pd


        def daily(orders, start, context):
            if os.environ.get("FAIL_DAY") == context.partition.key:
                raise RuntimeError(f"no orders for {context.partition.key}")
            return pd.DataFrame({"order_date": [start.date()], "orders": [len(orders)]})
        """,
}
DAILY = "python.proj.daily"


@pytest.fixture
def partitioned_catalog(make_project) -> Path:
    """A partitioned asset whose windows 2026-01-01..04 ran (01-03 failed) while 01-05 and
    01-06 never did, at BRAID_NOW 2026-01-06 12:00: its catalog page."""
    project = make_project(PARTITIONED_FILES)
    at = {"BRAID_NOW": "2026-01-06T12:00:00Z"}
    done = project.braid("deps")
    assert done.returncode == 0, done.stdout + done.stderr
    done = project.braid("run", "--event-time-start", "2026-01-01", "--event-time-end",
                         "2026-01-05", env={**at, "FAIL_DAY": "2026-01-03"})
    assert done.returncode == 1, done.stdout + done.stderr
    assert "2026-01-03" in done.stdout + done.stderr
    done = project.braid("catalog", env=at)
    assert done.returncode == 0, done.stdout + done.stderr
    return project.root / "target" / "braid" / "catalog.html"


def test_a_partitioned_assets_windows_as_a_strip_in_chromium(driver, partitioned_catalog: Path
                                                             ) -> None:
    from selenium.webdriver.common.by import By

    driver.get(partitioned_catalog.as_uri() + "#/asset/" + DAILY)
    _shown(driver, "asset-name", "daily")
    cells = driver.find_elements(By.CSS_SELECTOR, "#windows .strip .cell")
    assert [(c.get_attribute("data-key"), c.get_attribute("class")) for c in cells] == [
        ("2026-01-01", "cell done"), ("2026-01-02", "cell done"),
        ("2026-01-03", "cell failed"), ("2026-01-04", "cell done"),
        ("2026-01-05", "cell missing"), ("2026-01-06", "cell missing")]
    failed = driver.find_element(By.CSS_SELECTOR, "#windows .cell.failed")
    assert failed.get_attribute("title") == "2026-01-03: failed"
    assert all(c.size["width"] > 0 and c.size["height"] > 0 for c in cells)
    # coloured as the page's health colours: failed red, done green, missing grey
    colours = {state: driver.execute_script(
        "return getComputedStyle(document.querySelector('#windows .cell.' + arguments[0]))"
        ".backgroundColor;", state) for state in ("done", "failed", "missing")}
    assert colours == {"done": "rgb(22, 163, 74)", "failed": "rgb(220, 38, 38)",
                       "missing": "rgb(156, 163, 175)"}
    assert driver.find_element(By.ID, "windows-summary").text == (
        "3/6 done; failed 2026-01-03; missing 2026-01-05..2026-01-06")
    # the model (orders) is not partitioned: no strip on its page
    driver.get(partitioned_catalog.as_uri() + "#/asset/model.proj.orders")
    _shown(driver, "asset-name", "orders")
    assert not driver.find_elements(By.ID, "windows")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.get(partitioned_catalog.as_uri() + "#/asset/" + DAILY)
    _shown(driver, "windows-summary")
    driver.save_screenshot(str(ARTIFACTS / "catalog-windows.png"))
    assert _severe(driver) == []


def test_1000_nodes_in_chromium(driver, tmp_path: Path) -> None:
    """A 1,000-node page opens and draws every node (its load time is measured in
    bench/bench_catalog.py, not here)."""
    from selenium.webdriver.common.by import By

    payload = synthetic_payload(1000)
    data = model.catalog_data(
        title="big", nodes=payload["nodes"],
        edges=[(e["from"], e["to"]) for e in payload["edges"]], statuses={})
    path = tmp_path / "catalog.html"
    path.write_text(page.to_html(data))
    driver.get(path.as_uri())
    assert driver.execute_script("return document.body.dataset.ready") == "true"
    assert _severe(driver) == []
    assert len(driver.find_elements(By.CSS_SELECTOR, "#nodes g.node")) == 1000
    driver.save_screenshot(str(ARTIFACTS / "catalog-1000.png"))
