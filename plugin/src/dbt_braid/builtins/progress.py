"""Writes ``target/braid/runs/<run_id>.jsonl``: a run's progress, one JSON line per event.

Who watches a run from outside its process (``braid serve``, a CI dashboard) cannot always
read the warehouse meanwhile: a DuckDB file is held by the process writing it. So the run
also says what it is doing in a file of its own: the plan when it starts, each node as it
starts and finishes (dbt and Python alike), the end. Each event is one ``write`` of one line
to a file opened for appending, so a reader never sees half an event. The file's place
and its reading back are :mod:`dbt_braid.emit.progress`'s (``braid serve`` reads it too).
"""

from __future__ import annotations

import json
import os
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from dbt_braid.core.assets import PythonAsset
from dbt_braid.core.markers import hookimpl
from dbt_braid.core.results import NodeResult, RunReport
from dbt_braid.dbtcore.project import DbtProject
from dbt_braid.emit.progress import in_progress, progress_path
from dbt_braid.planning.batches import Plan

#: runs whose progress files are kept (with braid serve's console logs beside them) unless
#: braid.yml says ``runs: {keep: N}``; older ones go, never one of a run still going
KEEP = 100
#: seconds a console log without a progress file is taken for a run still parsing
LOG_ONLY_GRACE = 3600

#: run_id -> the open progress file of each run under way in this process
_files: dict[str, int] = {}
_lock = threading.Lock()


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


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _prune(folder: Path, keep: int = KEEP) -> None:
    """Keep the newest ``keep`` runs' files: a run every minute must not fill the disk.
    A run is its progress file and its console log (braid serve's); a run still in
    progress (another target's, say) is never touched."""
    runs: dict[str, list[Path]] = {}
    # the progress file first: a run's age is its progress file's (its log's without one)
    for path in [*folder.glob("*.jsonl"), *folder.glob("*.log")]:
        runs.setdefault(path.stem, []).append(path)
    newest = sorted(runs.values(), key=lambda files: _mtime(files[0]), reverse=True)
    for files in newest[keep:]:
        if files[0].suffix == ".jsonl" and in_progress(files[0]):
            continue
        if files[0].suffix == ".log" and _mtime(files[0]) > time.time() - LOG_ONLY_GRACE:
            continue  # a launched run's console, its run not begun yet (parsing)
        for path in files:
            path.unlink(missing_ok=True)


def keep_count(project_root: Path) -> int:
    """braid.yml's ``runs: {keep: N}``, else KEEP. braid.yml was checked as the run began
    (its executor setting); a file that has become unreadable since leaves the default."""
    from dbt_braid.core.errors import BraidUserError
    from dbt_braid.schedules.config import read

    try:
        runs = read(project_root).get("runs") or {}
    except BraidUserError:
        return KEEP
    return int(runs.get("keep", KEEP))


@hookimpl
def start_run(run_id: str, command: str, plan: Plan, project: DbtProject, report: RunReport
              ) -> None:
    path = progress_path(project.target_dir, run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    _prune(path.parent, keep_count(project.project_root))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    with _lock:
        _files[run_id] = fd
    graph = report.graph
    _emit(run_id, {"event": "start", "run_id": run_id, "command": command, "pid": os.getpid(),
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
