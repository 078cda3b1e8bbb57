"""``braid catalog`` (issue 15, point 1): the one offline page in a real headless Chromium
(Debian's chromium and chromium-driver, driven by Selenium with an explicit chromedriver path:
nothing is downloaded). The page's data model as pure functions is in
tests/unit/catalog/test_catalog_model.py.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from dbt_braid.catalog import model, page
from graphs import synthetic_payload
from helpers import BRAID, BRAID_PACKAGE, DBT, REPO, copy_integration_project

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ARTIFACTS = REPO / "target" / "test-artifacts"
PREDICTED = "python.braid_integration_tests.predicted_orders"
MODEL = "python.braid_integration_tests.order_forecast_model"


# ---- the data model, without a browser ------------------------------------------------


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
    **BRAID_PACKAGE,
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
