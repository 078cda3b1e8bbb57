"""Writes ``target/braid/runs/<run_id>.jsonl``: a run's progress, one JSON line per event.

Who watches a run from outside its process (``braid serve``, a CI dashboard) cannot always
read the warehouse meanwhile: a DuckDB file is held by the process writing it. So the run
also says what it is doing in a file of its own: the plan when it starts, each node as it
starts and finishes (dbt and Python alike), the end. Each event is one ``write`` of one line
to a file opened for appending, so a reader never sees half an event.
"""

from __future__ import annotations

import json
import os
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from dbt_braid.assets import PythonAsset
from dbt_braid.dbtcore.project import DbtProject
from dbt_braid.execution.results import NodeResult, RunReport
from dbt_braid.hookspecs import hookimpl
from dbt_braid.planning.batches import Plan

#: progress files kept (with braid serve's console logs beside them); older ones go
KEEP = 200

#: run_id -> the open progress file of each run under way in this process
_files: dict[str, int] = {}
_lock = threading.Lock()


def progress_path(target_dir: Path, run_id: str) -> Path:
    """Where a run's progress goes (``target_dir``: the project's target/)."""
    return target_dir / "braid" / "runs" / f"{run_id}.jsonl"


def _emit(run_id: str, event: dict[str, Any]) -> None:
    with _lock:
        fd = _files.get(run_id)
    if fd is None:
        return
    event = {"at": datetime.now(timezone.utc).isoformat(), **event}
    os.write(fd, (json.dumps(event, default=str) + "\n").encode())


def _result(result: NodeResult) -> dict[str, Any]:
    return {"unique_id": result.unique_id, "name": result.name,
            "kind": result.resource_type, "status": result.status,
            "message": result.message, "rows": result.rows_written,
            "attempt": result.attempt}


def _prune(folder: Path) -> None:
    """Keep the newest KEEP runs' files: a run every minute must not fill the disk."""
    files = sorted(folder.glob("*.jsonl"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in files[KEEP:]:
        for path in (old, old.with_suffix(".log")):
            path.unlink(missing_ok=True)


@hookimpl
def start_run(run_id: str, command: str, plan: Plan, project: DbtProject, report: RunReport
              ) -> None:
    path = progress_path(project.target_dir, run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    _prune(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    with _lock:
        _files[run_id] = fd
    graph = report.graph
    _emit(run_id, {"event": "start", "run_id": run_id, "command": command,
                   "nodes": [{"unique_id": u, "name": graph.nodes[u]["name"],
                              "kind": graph.nodes[u]["resource_type"]} for u in plan.order]})


@hookimpl
def before_dbt_node(run_id: str, unique_id: str) -> None:
    _emit(run_id, {"event": "node_start", "unique_id": unique_id})


@hookimpl
def after_dbt_node(run_id: str, result: NodeResult) -> None:
    _emit(run_id, {"event": "node_end", **_result(result)})


@hookimpl
def before_python_asset(asset: PythonAsset, run_id: str) -> None:
    _emit(run_id, {"event": "node_start", "unique_id": asset.unique_id})


@hookimpl
def after_python_asset(result: NodeResult, run_id: str) -> None:
    _emit(run_id, {"event": "node_end", **_result(result)})


@hookimpl
def finish_run(report: RunReport) -> None:
    status = "cancelled" if report.interrupted else ("success" if report.success else "error")
    _emit(report.run_id, {"event": "finish", "status": status, "elapsed": report.elapsed,
                          "results": [_result(r) for r in report.results]})
    with _lock:
        fd = _files.pop(report.run_id, None)
    if fd is not None:
        os.close(fd)
