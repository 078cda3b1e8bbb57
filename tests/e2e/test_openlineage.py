"""OpenLineage events from a real run of the integration project, captured by the client's
file transport."""

from __future__ import annotations

import json
import os
import re
import subprocess
import uuid
from pathlib import Path

import pytest
from helpers import BRAID, copy_integration_project, source_p_yaml

PKG = "braid_integration_tests"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class It:
    def __init__(self, tmp: Path) -> None:
        self.root = copy_integration_project(tmp / "it")
        self.db = tmp / "it.duckdb"
        self.events = tmp / "events.jsonl"
        self.config = tmp / "openlineage.yml"
        self.config.write_text(
            f"transport:\n  type: file\n  log_file_path: {self.events}\n  append: true\n")

    def braid(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        full = {k: v for k, v in os.environ.items() if not k.startswith("OPENLINEAGE")}
        full.update({"BRAID_DUCKDB_PATH": str(self.db), **env})
        done = subprocess.run([BRAID, *args, "--profiles-dir", str(self.root)], cwd=self.root,
                              env=full, capture_output=True, text=True, timeout=600)
        return done

    def read_events(self) -> list[dict]:
        return [json.loads(line) for line in self.events.read_text().splitlines() if line]


@pytest.fixture(scope="module")
def it(tmp_path_factory: pytest.TempPathFactory) -> It:
    project = It(tmp_path_factory.mktemp("ol"))
    for command in ("deps", "seed"):
        assert project.braid(command).returncode == 0
    done = project.braid("run", OPENLINEAGE_CONFIG=str(project.config))
    assert done.returncode == 0, done.stdout + done.stderr
    return project


def test_start_and_complete_for_every_node_with_the_braid_run_as_parent(it) -> None:
    events = it.read_events()
    run = json.loads((it.root / "target/braid/run_results.json").read_text())
    ran = {r["unique_id"] for r in run["results"] if r["status"] == "success"}
    assert len(events) == 2 + 2 * len(ran)
    parent = [e for e in events if e["run"]["runId"] == run["run_id"]]
    assert [e["eventType"] for e in parent] == ["START", "COMPLETE"]
    children = [e for e in events if e["run"]["runId"] != run["run_id"]]
    by_run: dict[str, list[str]] = {}
    for event in children:
        assert event["run"]["facets"]["parent"]["run"]["runId"] == run["run_id"]
        by_run.setdefault(event["run"]["runId"], []).append(event["eventType"])
    assert all(types == ["START", "COMPLETE"] for types in by_run.values())
    assert len(by_run) == len(ran)


def test_events_have_the_shape_of_the_spec(it) -> None:
    for event in it.read_events():
        assert set(event) >= {"eventTime", "eventType", "producer", "run", "job", "inputs",
                              "outputs", "schemaURL"}
        assert event["schemaURL"].startswith("https://openlineage.io/spec/")
        assert event["eventType"] in {"START", "COMPLETE", "FAIL"}
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00$", event["eventTime"])
        assert UUID.match(event["run"]["runId"]) and uuid.UUID(event["run"]["runId"])
        assert event["job"]["namespace"] and event["job"]["name"]
        assert re.match(r"^[a-z][a-z0-9+.-]*:", event["producer"])
        for dataset in event["inputs"] + event["outputs"]:
            assert set(dataset) >= {"namespace", "name"}
            for facet in dataset.get("facets", {}).values():
                assert facet["_producer"] and facet["_schemaURL"].startswith("https://")
        assert "password" not in json.dumps(event).lower()


def _producers(events: list[dict]) -> dict[tuple[str, str], str]:
    return {(o["namespace"], o["name"]): e["job"]["name"]
            for e in events for o in e["outputs"] if e["eventType"] == "START"}


def test_python_output_is_the_same_dataset_dbt_reads(it) -> None:
    events = it.read_events()
    namespace = f"duckdb://{it.db}"
    predicted = (namespace, f"{it.db.stem}.main_forecasting.predicted_orders")
    assert _producers(events)[predicted] == f"python.{PKG}.predicted_orders"
    summary = next(e for e in events if e["job"]["name"].endswith(".forecast_summary")
                   and e["eventType"] == "START")
    assert {"namespace": predicted[0], "name": predicted[1]} in [
        {k: d[k] for k in ("namespace", "name")} for d in summary["inputs"]]
    # the schema is known once the asset has written its table: on its COMPLETE event
    out = next(o for e in events if e["eventType"] == "COMPLETE" for o in e["outputs"]
               if (o["namespace"], o["name"]) == predicted)
    fields = {f["name"] for f in out["facets"]["schema"]["fields"]}
    assert fields == {"forecast_date", "predicted_orders", "predicted_revenue"}


def test_seeds_are_inputs(it) -> None:
    events = it.read_events()
    stg = next(e for e in events if e["job"]["name"].endswith(".stg_orders"))
    assert [i["name"] for i in stg["inputs"]] == [f"{it.db.stem}.main.raw_orders"]


def test_joined_event_graph_equals_lineage_edges(it) -> None:
    events = [e for e in it.read_events() if e["eventType"] == "START"]
    lineage = json.loads((it.root / "target/braid/lineage.json").read_text())
    run = json.loads((it.root / "target/braid/run_results.json").read_text())
    ran = {r["unique_id"] for r in run["results"]}
    nodes = {n["unique_id"]: n for n in lineage["nodes"]}
    # a dataset names the node that produces it: its relation, or a Python asset's store
    by_dataset = {}
    for uid, node in nodes.items():
        if node.get("relation"):
            by_dataset[node["relation"]] = uid
        elif node["resource_type"] == "python":
            by_dataset[f"{node['package_name']}.{node['name']}"] = uid
    by_job = {}  # jobs are named by relation (as dbt-ol names them); Python assets by id
    for uid, node in nodes.items():
        if uid in ran:
            python = node["resource_type"] == "python"
            by_job[uid if python else node.get("relation") or uid] = uid
    joined = {(by_dataset[i["name"]], by_job[e["job"]["name"]])
              for e in events if e["job"]["name"] in by_job for i in e["inputs"]}
    expected = {(e["from"], e["to"]) for e in lineage["edges"] if e["to"] in ran}
    assert joined == expected


def test_nothing_is_sent_unless_configured_and_a_dead_backend_is_a_warning(it) -> None:
    before = it.events.read_text()
    assert it.braid("run", "-s", "stg_orders").returncode == 0
    assert it.braid("run", "-s", "stg_orders", OPENLINEAGE_CONFIG=str(it.config),
                    OPENLINEAGE_DISABLED="true").returncode == 0
    assert it.events.read_text() == before
    # nothing listens on port 9: the run still succeeds
    done = it.braid("run", "-s", "stg_orders", OPENLINEAGE_URL="http://127.0.0.1:9")
    assert done.returncode == 0, done.stdout + done.stderr
    run = json.loads((it.root / "target/braid/run_results.json").read_text())
    assert [r["status"] for r in run["results"]] == ["success"]


def test_static_lineage_as_openlineage_job_events(it) -> None:
    """braid lineage --format openlineage: a JobEvent per node that builds something, with
    the datasets the run events use; joined, they give lineage.json's edges."""
    done = it.braid("lineage", "--format", "openlineage", "--output", "-")
    assert done.returncode == 0, done.stdout + done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    lineage = json.loads((it.root / "target/braid/lineage.json").read_text())
    nodes = {n["unique_id"]: n for n in lineage["nodes"]}
    builders = {u for u, n in nodes.items()
                if n["resource_type"] in ("model", "seed", "snapshot", "python")}
    assert len(events) == len(builders)
    for event in events:
        assert "run" not in event and "eventType" not in event
        assert event["schemaURL"].endswith("#/$defs/JobEvent")
        assert event["job"]["facets"]["jobType"]["integration"] in ("DBT", "BRAID")
    # the same datasets as the run's events (plus the seeds, which braid run does not load)
    run_outputs = {(o["namespace"], o["name"]) for e in it.read_events() for o in e["outputs"]}
    static_outputs = {(o["namespace"], o["name"]) for e in events for o in e["outputs"]}
    seeds = {n["relation"] for n in nodes.values() if n["resource_type"] == "seed"}
    assert {name for _, name in static_outputs - run_outputs} == seeds
    assert run_outputs <= static_outputs
    produced = {o["name"]: e["job"]["name"] for e in events for o in e["outputs"]}
    joined = {(produced[i["name"]], e["job"]["name"]) for e in events for i in e["inputs"]
              if i["name"] in produced}
    job_of = {(n.get("relation") if n["resource_type"] != "python" else u): u
              for u, n in nodes.items()}
    expected = {(a, b) for a, b in ((e["from"], e["to"]) for e in lineage["edges"])
                if a in builders and b in builders}
    assert {(job_of[a], job_of[b]) for a, b in joined} == expected


LIVE = {
    "models/a.sql": "{{ config(materialized='table') }} select 1 as id",
    "models/sources.yml": source_p_yaml(after="""
        exposures:
          - name: broken
            type: ml
            owner: {name: me}
            depends_on: [ref('a')]
            config: {meta: {braid: {python: p.broken}}}
        """),
    "python_assets/p.py": """
        import json
        import os


        def make(a):
            # what a backend has received while this asset runs
            with open(os.environ["OL_EVENTS"]) as events:
                seen = [json.loads(line) for line in events if line.strip()]
            with open(os.environ["OL_SEEN"], "w") as out:
                json.dump([(e["eventType"], e["job"]["name"]) for e in seen], out)
            return a


        def broken(a):
            raise ValueError("the model would not converge")
        """,
}


def test_events_leave_as_nodes_start_and_failures_carry_their_message(make_project,
                                                                        tmp_path) -> None:
    project = make_project(LIVE)
    events = tmp_path / "events.jsonl"
    config = tmp_path / "openlineage.yml"
    config.write_text(f"transport:\n  type: file\n  log_file_path: {events}\n  append: true\n")
    seen_file = tmp_path / "seen.json"
    done = project.braid("run", env={"OPENLINEAGE_CONFIG": str(config), "OL_EVENTS": str(events),
                                     "OL_SEEN": str(seen_file)})
    assert done.returncode == 1, done.stdout + done.stderr
    seen = json.loads(seen_file.read_text())
    # while p ran: the run had started, model a had started and completed, p had started
    assert ["START", "proj.braid_run"] in seen
    assert ("START", "python.proj.p") in map(tuple, seen)
    assert any(kind == "COMPLETE" and job.endswith(".a") for kind, job in seen)
    assert not any(kind == "COMPLETE" and job == "python.proj.p" for kind, job in seen)
    every = [json.loads(line) for line in events.read_text().splitlines() if line]
    failed = [e for e in every if e["eventType"] == "FAIL" and e["job"]["name"]
              == "python.proj.broken"]
    assert len(failed) == 1
    facet = failed[0]["run"]["facets"]["errorMessage"]
    assert "the model would not converge" in facet["message"]
    assert facet["programmingLanguage"] == "python"
    assert "raise ValueError" in facet["stackTrace"]
    assert [e["eventType"] for e in every if e["job"]["name"] == "proj.braid_run"] == [
        "START", "FAIL"]
