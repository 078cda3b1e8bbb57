"""``braid lineage --format json|mermaid|dot`` on the integration project."""

from __future__ import annotations

import json
import re

import pytest
from helpers import BRAID, copy_integration_project


@pytest.fixture(scope="module")
def it(tmp_path_factory: pytest.TempPathFactory):
    import os
    import subprocess

    root = copy_integration_project(tmp_path_factory.mktemp("lin") / "it")
    env = {**os.environ, "BRAID_DUCKDB_PATH": str(root / "db.duckdb")}

    def braid(*args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([BRAID, *args, "--profiles-dir", str(root)], cwd=root, env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        return done

    braid("deps")
    return braid, root


def test_json_format_is_the_unified_graph(it) -> None:
    braid, root = it
    payload = json.loads(braid("lineage", "--format", "json", "-o", "-").stdout)
    ids = {n["unique_id"] for n in payload["nodes"]}
    assert "python.braid_integration_tests.predicted_orders" in ids
    assert "source.braid_integration_tests.forecasting.predicted_orders" not in ids
    written = root / "target" / "braid" / "lineage.json"
    braid("lineage")
    assert json.loads(written.read_text()) == payload


def test_mermaid_has_every_node_and_edge_and_tells_python_apart(it) -> None:
    braid, _ = it
    payload = json.loads(braid("lineage", "-o", "-").stdout)
    text = braid("lineage", "--format", "mermaid", "-o", "-").stdout
    assert text.startswith("flowchart LR\n")
    assert len(re.findall(r"^    n\d+ --> n\d+$", text, re.M)) == len(payload["edges"])
    declared = re.findall(r'^    (n\d+)[\[\(]', text, re.M)
    assert len(declared) == len(payload["nodes"])
    assert re.search(r'\(\["predicted_orders \(python\)"\]\)', text)
    assert "class " in text and "classDef python" in text


def test_dot_is_left_to_right_with_a_shape_per_kind(it) -> None:
    braid, _ = it
    text = braid("lineage", "--format", "dot", "-o", "-", "-s", "+forecast_summary").stdout
    assert text.startswith("digraph braid {") and "rankdir=LR;" in text
    assert '"python.braid_integration_tests.predicted_orders" [label="predicted_orders (python)",' \
           ' shape=ellipse' in text
    assert ('"python.braid_integration_tests.predicted_orders" -> '
            '"model.braid_integration_tests.forecast_summary";') in text
    assert "fct_orders_usd" not in text  # not upstream of forecast_summary
