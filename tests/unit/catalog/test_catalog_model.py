"""The catalog's model, layout and page built from hand-made payloads: no dbt, no browser (the
real catalog in Chromium is tests/e2e/test_catalog.py)."""

from __future__ import annotations

import json
import re
from typing import Any

from dbt_braid.catalog import model, page
from dbt_braid.catalog.layout import layout
from graphs import synthetic_payload
from helpers import REPO


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
