"""When braid first saw each schedule of braid.yml, per target: a schedule with no recorded
run waits for its first tick after that moment (unless ``catch_up: true``), so adding a
schedule today does not fire it on the next ``braid run --due``.

Kept in ``target/braid/schedules-<target>.json`` ({name: ISO time}), beside the run lock:
history only holds runs, and a schedule that never ran has none; a file needs no new
warehouse table, and no write to a warehouse a running run may hold (``braid schedules``
only reads). A schedule removed from braid.yml is forgotten, so adding it back is new
again. Where target/ does not survive between calls (a fresh container per call), every
call is a first sight: such schedules want ``catch_up: true`` (README: Schedules).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any


def path_for(target_dir: Path, target: str) -> Path:
    return target_dir / "braid" / f"schedules-{target}.json"


def of_project(project: Any, schedules: Sequence[Any], now: datetime) -> dict[str, datetime]:
    """:func:`first_seen` for a parsed project's target (a DbtProject)."""
    path = path_for(project.target_dir, str(project.config.target_name))
    return first_seen(path, [s.name for s in schedules], now)


def first_seen(path: Path, names: Iterable[str], now: datetime) -> dict[str, datetime]:
    """Each schedule's first sighting: the recorded one, else ``now`` (then recorded)."""
    wanted = list(names)
    try:
        known = json.loads(path.read_text())
        if not isinstance(known, dict):
            known = {}
    except (OSError, ValueError):
        known = {}
    seen: dict[str, datetime] = {}
    for name in wanted:
        try:
            seen[name] = datetime.fromisoformat(str(known[name]))
        except (KeyError, ValueError):
            seen[name] = now
    kept = {name: moment.isoformat() for name, moment in seen.items()}
    if kept != known:
        _write(path, kept)
    return seen


def _write(path: Path, data: dict[str, str]) -> None:
    """Replace the file in one step, so a reader never sees half of it."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        part.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
        os.replace(part, path)
    except OSError:
        pass  # a read-only target/: each call is a first sighting, as without the file
