"""Results of a run, in the shape ``target/braid/run_results.json`` records (SPEC §5)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx

#: statuses that stop what is downstream (dbt's too: a microbatch model's "partial success"
#: skips its dependents and fails the run)
FAILED = frozenset({"error", "fail", "skipped", "partial success"})
#: a node's own failure (not a skip): --fail-fast stops
BROKE = frozenset({"error", "fail", "partial success"})


@dataclass
class NodeResult:
    unique_id: str
    name: str
    resource_type: str
    status: str
    execution_time: float = 0.0
    message: str | None = None
    rows_written: int | None = None
    invocation: int | None = None
    started_at: str | None = None
    completed_at: str | None = None
    #: a Python asset's own traceback, when it raised
    traceback: str | None = field(default=None, repr=False)
    #: (name, type) of the columns a Python asset wrote to a table
    columns: list[tuple[str, str]] | None = field(default=None, repr=False)
    #: which attempt this is (a Python asset with ``retries`` may take several)
    attempt: int = 1
    #: the failed attempts before this one, each recorded in history as ``retried``
    attempts: list[NodeResult] = field(default_factory=list, repr=False)
    #: values a Python asset attached with ``context.add_metadata`` (kept in history)
    metadata: dict[str, Any] = field(default_factory=dict, repr=False)
    #: a window's key (``2026-01-31``) when this is one window of a partitioned asset
    partition: str | None = None
    #: a partitioned asset's windows, each its own result (and history row)
    windows: list[NodeResult] = field(default_factory=list, repr=False)
    #: dbt skipped this node because the ephemeral model of this unique_id did not compile:
    #: a node downstream of both is dbt's to skip too, in its own invocation, with dbt's
    #: message ("caused by compilation error in referenced ephemeral model")
    skipped_for: str | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RunReport:
    """Everything a run leaves behind; handed to the ``write_artifacts`` hook."""

    run_id: str
    command: str
    started_at: str
    elapsed: float
    results: list[NodeResult]
    graph: nx.DiGraph
    target_dir: Path
    invocations: int = 0
    interrupted: bool = False
    #: what stopped an interrupted run: "Ctrl-C" or "SIGTERM"
    stopped_by: str | None = None
    args: dict[str, Any] = field(default_factory=dict)
    #: the project's on-run-end failed: dbt's error, and the run exits 2 as dbt's does
    hook_error: str | None = None

    @property
    def success(self) -> bool:
        """dbt's rule (``interpret_results``): any error, failure or skip fails the run,
        an exposure's skip aside. A skip has a cause that failed too, except when that
        cause is an ephemeral model that did not compile: dbt keeps no result of its own
        for it, and its skipped dependents fail the run."""
        return self.hook_error is None and not any(
            r.status in FAILED and r.resource_type != "exposure" for r in self.results)
