"""A run's progress file, ``target/braid/runs/<run_id>.jsonl``: where it is, its events read
back, whether its run is still going.

The built-in plugin ``builtins.progress`` writes it (one JSON line per event: ``start``
with the plan and the pid, ``node_start``, ``node_end``, ``finish``); ``braid serve``
follows a launched run through it. Both import this module, so the format has one home.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

#: bytes read from the end of a progress file to find its end record
TAIL = 65536


def progress_path(target_dir: Path, run_id: str) -> Path:
    """Where a run's progress goes (``target_dir``: the project's target/)."""
    return target_dir / "braid" / "runs" / f"{run_id}.jsonl"


def read_events(path: Path) -> list[dict[str, Any]]:
    """The events written so far ([] before the file exists); a line being written ends it."""
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return []
    out = []
    for line in lines:
        try:
            out.append(json.loads(line))
        except ValueError:  # a line being written
            break
    return out


def _alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # someone else's process: alive
        return True
    return True


def in_progress(path: Path) -> bool:
    """A run still going: its progress file has no end record and the process that began
    it (the start record's pid) is alive. A run that crashed (no end, no process) is over."""
    try:
        with path.open("rb") as f:
            first = f.readline()
            f.seek(max(0, path.stat().st_size - TAIL))
            tail = f.read()
    except OSError:
        return False
    if b'"event": "finish"' in tail:
        return False
    try:
        pid = json.loads(first).get("pid")
    except (ValueError, AttributeError):
        pid = None
    return _alive(pid)
