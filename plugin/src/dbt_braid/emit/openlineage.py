"""OpenLineage's events for the unified graph: datasets, jobs, facets, each node's and each
run's events, and static lineage (``braid lineage --format openlineage``).

Datasets are named as OpenLineage's dbt integration names them (namespace
``duckdb://<path>`` or ``postgres://host:port``, name ``database.schema.identifier``), so a
Python asset's output table is the same dataset as the dbt source that reads it. A value an
exposure asset pickles is a dataset of namespace ``braid`` too, so the model -> predictions
edge survives. Each node's run has the braid run as its parent. Sending is the built-in
plugins' job (``builtins.openlineage``: all at once; ``builtins.openlineage_live``: as the
run goes); the command line builds static lineage from here without them.
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path
from typing import Any

import networkx as nx

from dbt_braid import __version__
from dbt_braid.core.results import NodeResult, RunReport
from dbt_braid.dbtcore.project import DbtProject

PRODUCER = f"urn:braid:dbt-braid:{__version__}"
RAN = frozenset({"success", "error", "fail", "pass", "warn", "partial success"})
FAILED = frozenset({"error", "fail", "partial success"})


def configured() -> bool:
    if os.environ.get("OPENLINEAGE_DISABLED", "").strip().lower() == "true":
        return False
    if os.environ.get("OPENLINEAGE_URL") or os.environ.get("OPENLINEAGE_CONFIG"):
        return True
    if any(key.startswith("OPENLINEAGE__TRANSPORT") for key in os.environ):
        return True
    homes = (Path.cwd() / "openlineage.yml", Path.home() / ".openlineage" / "openlineage.yml")
    return any(p.is_file() for p in homes)


def dataset_namespace(credentials: Any) -> str:
    """Where tables live, as the OpenLineage dbt integration writes it; no credentials."""
    kind = credentials.type
    if kind == "duckdb":
        return f"duckdb://{duckdb_location(getattr(credentials, 'path', ''))}"
    host = getattr(credentials, "host", None)
    port = getattr(credentials, "port", None)
    if host:
        return f"{kind}://{host}:{port}" if port else f"{kind}://{host}"
    return f"{kind}://{getattr(credentials, 'database', '') or ''}"


def duckdb_location(path: str) -> str:
    """A DuckDB path without what may carry a secret: the query string
    (``md:db?motherduck_token=...``) and any ``user:password@`` of a URL."""
    path = re.sub(r"^([a-z0-9+]+://)[^/@]*@", r"\1", path.split("?", 1)[0])
    if path == ":memory:" or ":" in path.split("/", 1)[0]:
        return path  # md:db, s3://..., :memory: are not local files
    return os.path.abspath(path)


class Namer:
    """Datasets and job names for the nodes of one run."""

    def __init__(self, graph: nx.DiGraph, project: DbtProject) -> None:
        self.graph = graph
        self.namespace = dataset_namespace(project.config.credentials)
        self.job_namespace = os.environ.get("OPENLINEAGE_NAMESPACE", "default")
        self.store = f"braid://{project.config.project_name}/{project.config.target_name}"

    def dataset(self, uid: str) -> tuple[str, str] | None:
        data = self.graph.nodes[uid]
        if data.get("relation"):
            return self.namespace, data["relation"]
        if data["resource_type"] == "python":
            return self.store, f"{data['package_name']}.{data['name']}"
        return None

    def job(self, uid: str) -> str:
        data = self.graph.nodes[uid]
        if data["resource_type"] == "python":
            return uid
        if data["resource_type"] == "test":
            parents = [
                p for p in self.graph.predecessors(uid) if self.graph.nodes[p].get("relation")
            ]
            base = self.graph.nodes[parents[0]]["relation"] if parents else data["package_name"]
            return f"{base}.{data['name']}.test"
        return str(data.get("relation") or uid)


def parent_facet(run_id: str, command: str, project: DbtProject, namer: Namer
                 ) -> tuple[str, Any]:
    """The braid run's job name and the parent facet its nodes' runs carry."""
    from openlineage.client.facet_v2 import parent_run

    parent_job = f"{project.config.project_name}.braid_{command}"
    return parent_job, parent_run.ParentRunFacet(
        run=parent_run.Run(runId=run_id),
        job=parent_run.Job(namespace=namer.job_namespace, name=parent_job),
        producer=PRODUCER,
    )


def run_event(state: str, moment: str, run_id: str, namer: Namer, parent_job: str) -> Any:
    from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
    from openlineage.client.facet_v2 import job_type_job

    facets: dict[str, Any] = {}
    if state == "START":
        facets["jobType"] = job_type_job.JobTypeJobFacet(
            processingType="BATCH", integration="BRAID", jobType="RUN", producer=PRODUCER)
    return RunEvent(eventType=RunState(state), eventTime=moment, producer=PRODUCER,
                    run=Run(runId=run_id),
                    job=Job(namespace=namer.job_namespace, name=parent_job, facets=facets))


def run_end(report: RunReport) -> str:
    return "COMPLETE" if report.success and not report.interrupted else "FAIL"


def run_events(report: RunReport, project: DbtProject) -> list[Any]:
    """Every event of a finished run at once (when no live stream was started)."""
    graph = report.graph
    namer = Namer(graph, project)
    parent_job, parent = parent_facet(report.run_id, report.command, project, namer)
    events = [run_event("START", report.started_at, report.run_id, namer, parent_job)]
    for result in report.results:
        if result.status not in RAN or result.unique_id not in graph:
            continue
        events.extend(node_events(result, graph, namer, parent, report.run_id))
    events.append(run_event(run_end(report), last_time(report), report.run_id, namer,
                            parent_job))
    return events


def datasets(
    uid: str, graph: nx.DiGraph, namer: Namer, columns: list[tuple[str, str]] | None = None
) -> tuple[list[Any], list[Any]]:
    """A node's input datasets (what it reads) and output datasets (what it writes)."""
    from openlineage.client.event_v2 import InputDataset, OutputDataset
    from openlineage.client.facet_v2 import schema_dataset

    data = graph.nodes[uid]
    inputs = []
    for upstream in sorted(graph.predecessors(uid)):
        if graph.nodes[upstream]["resource_type"] == "test":
            continue
        found = namer.dataset(upstream)
        if found:
            inputs.append(InputDataset(namespace=found[0], name=found[1]))
    outputs = []
    own = namer.dataset(uid) if data["resource_type"] != "test" else None
    if own:
        facets: dict[str, Any] = {}
        if columns:
            facets["schema"] = schema_dataset.SchemaDatasetFacet(
                fields=[schema_dataset.SchemaDatasetFacetFields(name=n, type=t)
                        for n, t in columns],
                producer=PRODUCER,
            )
        outputs.append(OutputDataset(namespace=own[0], name=own[1], facets=facets))
    return inputs, outputs


def job_of(uid: str, graph: nx.DiGraph, namer: Namer) -> Any:
    """The node's OpenLineage job, with a job-type facet telling dbt and Python apart."""
    from openlineage.client.event_v2 import Job
    from openlineage.client.facet_v2 import job_type_job

    data = graph.nodes[uid]
    python = data["kind"] == "python"
    return Job(
        namespace=namer.job_namespace,
        name=namer.job(uid),
        facets={
            "jobType": job_type_job.JobTypeJobFacet(
                processingType="BATCH",
                integration="BRAID" if python else "DBT",
                jobType="PYTHON_ASSET" if python else str(data["resource_type"]).upper(),
                producer=PRODUCER,
            )
        },
    )


def node_events(
    result: NodeResult, graph: nx.DiGraph, namer: Namer, parent: Any, run_id: str
) -> list[Any]:
    return [
        node_event(result.unique_id, "START", result.started_at, graph, namer, parent, run_id),
        end_event(result, graph, namer, parent, run_id),
    ]


def node_event(
    uid: str, state: str, moment: str | None, graph: nx.DiGraph, namer: Namer, parent: Any,
    run_id: str, columns: list[tuple[str, str]] | None = None,
    facets: dict[str, Any] | None = None,
) -> Any:
    from openlineage.client.event_v2 import Run, RunEvent, RunState

    inputs, outputs = datasets(uid, graph, namer, columns)
    return RunEvent(
        eventType=RunState(state),
        eventTime=moment or now(),
        producer=PRODUCER,
        run=Run(runId=str(uuid.uuid5(uuid.UUID(run_id), uid)),
                facets={"parent": parent, **(facets or {})}),
        job=job_of(uid, graph, namer),
        inputs=inputs,
        outputs=outputs,
    )


def end_event(result: NodeResult, graph: nx.DiGraph, namer: Namer, parent: Any,
              run_id: str) -> Any:
    """COMPLETE, or FAIL with the error message (and a Python asset's traceback)."""
    from openlineage.client.facet_v2 import error_message_run

    facets: dict[str, Any] = {}
    failed = result.status in FAILED
    if failed:
        python = graph.nodes[result.unique_id].get("kind") == "python"
        facets["errorMessage"] = error_message_run.ErrorMessageRunFacet(
            message=result.message or result.status,
            programmingLanguage="python" if python else "sql",
            stackTrace=result.traceback,
            producer=PRODUCER,
        )
    return node_event(result.unique_id, "FAIL" if failed else "COMPLETE",
                      result.completed_at, graph, namer, parent, run_id, result.columns, facets)


#: the nodes that are jobs in static lineage: they build something
JOB_TYPES = frozenset({"model", "seed", "snapshot", "python"})


def static_events(graph: nx.DiGraph, project: DbtProject, nodes: set[str] | None = None
                  ) -> list[Any]:
    """The graph as OpenLineage static lineage: one JobEvent per node that builds something
    (no run: ``braid lineage --format openlineage``), datasets named as the run events name
    them, so a backend joins the two."""
    from openlineage.client.event_v2 import JobEvent

    namer = Namer(graph, project)
    moment = now()
    events = []
    for uid in nx.topological_sort(graph):
        data = graph.nodes[uid]
        if data["resource_type"] not in JOB_TYPES or (nodes is not None and uid not in nodes):
            continue
        inputs, outputs = datasets(uid, graph, namer)
        events.append(JobEvent(eventTime=moment, producer=PRODUCER, job=job_of(uid, graph, namer),
                               inputs=inputs, outputs=outputs))
    return events


def to_json_lines(events: list[Any]) -> str:
    """Events as newline-delimited JSON, as the client's file transport writes them."""
    from openlineage.client.serde import Serde

    return "".join(Serde.to_json(e) + "\n" for e in events)


def now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).isoformat()


def last_time(report: RunReport) -> str:
    times = [r.completed_at for r in report.results if r.completed_at]
    return max(times) if times else now()
