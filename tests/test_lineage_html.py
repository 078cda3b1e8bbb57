"""``braid lineage --format html``: one self-contained page, checked in a real headless Chromium.

Debian's ``chromium`` and ``chromium-driver`` (scripts/test.sh installs them), driven by Selenium
with an explicit chromedriver path, so Selenium Manager never downloads a browser or a driver.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import BRAID, REPO, copy_integration_project
from dbt_braid import lineage_html

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ARTIFACTS = REPO / "target" / "test-artifacts"
PREDICTED = "python.braid_integration_tests.predicted_orders"


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
    places = lineage_html.layout(payload)
    assert len(places) == 500 and len(set(places.values())) == 500
    for edge in payload["edges"]:
        assert places[edge["from"]][0] < places[edge["to"]][0]
    page = lineage_html.to_html(payload, None)
    assert len(re.findall(r'<g class="node ', page)) == 500
    assert len(re.findall(r'<path class="edge"', page)) == len(payload["edges"])
    assert "no history" in page
    assert not re.search(r'(src|href)="(https?:)?//', page)  # nothing fetched from anywhere


def test_the_data_blob_cannot_end_its_script_tag() -> None:
    payload = {"nodes": [{"unique_id": "model.p.x", "name": "</script><b>x</b>",
                          "resource_type": "model", "package_name": "p"}], "edges": []}
    page = lineage_html.to_html(payload, None)
    blob = re.search(r'<script type="application/json" id="braid-lineage-data">(.*?)</script>',
                     page, re.S)
    assert blob and "</" not in blob.group(1)
    assert json.loads(blob.group(1))["nodes"][0]["name"] == "</script><b>x</b>"
    assert "<b>x</b>" not in page.replace(blob.group(1), "")


# ---- in a real browser ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def driver():
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        why = "Debian's chromium and chromium-driver are not installed (scripts/test.sh does)"
        if os.environ.get("CI"):
            pytest.fail(f"the HTML page must be tested in CI: {why}")
        pytest.skip(why)
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update",
                "--no-first-run", "--window-size=1920,1000"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    yield browser
    browser.quit()


def _severe(driver) -> list[dict[str, Any]]:
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


@pytest.fixture(scope="module")
def it_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The integration project built with braid (so there is history), and its HTML page."""
    import os
    import subprocess

    root = copy_integration_project(tmp_path_factory.mktemp("html") / "it")
    env = {**os.environ, "BRAID_DUCKDB_PATH": str(root / "db.duckdb")}
    def braid(*args: str) -> str:
        done = subprocess.run([BRAID, *args, "--profiles-dir", str(root)], cwd=root, env=env,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout + done.stderr

    braid("deps")
    # before anything ran, the page says there is no history rather than failing
    before = braid("lineage", "--format", "html", "-o", "-")
    assert '<span id="history">no history</span>' in before and '"history": false' in before
    for args in (("seed",), ("run",), ("lineage",)):
        braid(*args)
    assert "lineage (html," in braid("lineage", "--format", "html")
    return root


def test_the_page_in_chromium(driver, it_page: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    page = it_page / "target" / "braid" / "lineage.html"
    payload = json.loads((it_page / "target" / "braid" / "lineage.json").read_text())
    driver.get(page.as_uri())
    assert driver.title.startswith("braid lineage")
    assert _severe(driver) == []

    # every node of lineage.json is drawn, Python assets in their own shape
    groups = driver.find_elements(By.CSS_SELECTOR, "#nodes g.node")
    drawn = {g.get_attribute("data-id") for g in groups}
    assert drawn == {n["unique_id"] for n in payload["nodes"]}
    python = {g.get_attribute("data-id") for g in groups
              if "kind-python" in g.get_attribute("class")}
    assert python == {n["unique_id"] for n in payload["nodes"] if n["resource_type"] == "python"}
    assert PREDICTED in python
    assert len(driver.find_elements(By.CSS_SELECTOR, "#edges path.edge")) == len(payload["edges"])
    assert "no history" not in driver.find_element(By.TAG_NAME, "header").text

    # search dims what does not match, as you type
    search = driver.find_element(By.ID, "search")
    search.send_keys("predicted")
    dimmed = {g.get_attribute("data-id") for g in groups if "dim" in g.get_attribute("class")}
    matching = {n["unique_id"] for n in payload["nodes"] if "predicted" in n["unique_id"].lower()}
    assert matching and PREDICTED in matching
    assert dimmed == {n["unique_id"] for n in payload["nodes"]} - matching
    assert f"{len(matching)} of {len(payload['nodes'])} match" in driver.find_element(
        By.ID, "count").text
    search.send_keys(Keys.CONTROL, "a")
    search.send_keys(Keys.DELETE)
    assert not any("dim" in g.get_attribute("class") for g in groups)

    # a click shows the node's details: relation, function, upstream, last status from history
    node = driver.find_element(By.CSS_SELECTOR, f'#nodes g.node[data-id="{PREDICTED}"]')
    node.click()
    panel = driver.find_element(By.ID, "panel").text
    relation = next(n["relation"] for n in payload["nodes"] if n["unique_id"] == PREDICTED)
    assert "predicted_orders" in panel and PREDICTED in panel and relation in panel
    upstream = panel.split("upstream", 1)[1].split("downstream", 1)[0]
    assert "order_forecast_model" in upstream
    assert "success" in panel and re.search(r"\d{4}-\d\d-\d\d", panel)
    assert re.search(r"\bfresh\b|\bstale\b", panel)
    assert "forecast" in panel  # the python: module.function
    assert "selected" in node.get_attribute("class")
    # its upstream name is a link to that node
    driver.find_element(By.XPATH, '//aside[@id="panel"]//a[text()="order_forecast_model"]').click()
    assert driver.find_element(By.CSS_SELECTOR, "#panel h2").text == "order_forecast_model"
    node.click()

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / "lineage.png"))
    shutil.copy(page, ARTIFACTS / "lineage.html")
    assert _severe(driver) == []


def test_500_nodes_in_chromium(driver, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    page = tmp_path / "lineage.html"
    page.write_text(lineage_html.to_html(synthetic_payload(500), None))
    driver.get(page.as_uri())
    assert _severe(driver) == []
    assert len(driver.find_elements(By.CSS_SELECTOR, "#nodes g.node")) == 500
    driver.find_element(By.ID, "search").send_keys("node_42")
    hits = driver.find_elements(By.CSS_SELECTOR, "#nodes g.node.hit")
    assert {h.get_attribute("data-id").rsplit(".", 1)[1] for h in hits} == {
        f"node_{i}" for i in range(420, 430)}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / "lineage-500.png"))
    assert "no history" in driver.find_element(By.TAG_NAME, "header").text
