"""``braid retry``: exactly the nodes that failed or were skipped in the last run.

The last run is ``target/braid/run_results.json``; its ``args`` hold the command and flags
it ran with, so the retry repeats them. No selection is evaluated again: the plan covers
the failed and skipped unique_ids and nothing else, in dependency order.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import yaml

from dbt_braid.core.errors import BraidUserError
from dbt_braid.planning.batches import Plan, make_plan

AGAIN = frozenset({"error", "fail", "skipped", "partial success"})


@dataclass(frozen=True)
class LastRun:
    path: Path
    command: str
    argv: tuple[str, ...]
    again: frozenset[str]
    run_id: str | None = None
    #: a partitioned asset that failed in some windows -> those windows' keys
    windows: dict[str, list[str]] | None = None


def _target_path(project_dir: Path) -> str:
    try:
        config = yaml.safe_load((project_dir / "dbt_project.yml").read_text()) or {}
    except (OSError, yaml.YAMLError):
        config = {}
    return str(config.get("target-path") or "target")


def last_run(project_dir: Path) -> LastRun:
    path = project_dir / _target_path(project_dir) / "braid" / "run_results.json"
    if not path.exists():
        raise BraidUserError(f"braid retry: no previous run to retry ({path} not found)")
    data = json.loads(path.read_text())
    args = data.get("args") or {}
    results = data.get("results", [])
    again = frozenset(r["unique_id"] for r in results if r["status"] in AGAIN)
    # a partitioned asset's windows that succeeded stay as they are (dbt retries only the
    # failed batches of a microbatch model)
    windows = {r["unique_id"]: [w["key"] for w in r["windows"] if w["status"] != "success"]
               for r in results if r["status"] in AGAIN and r.get("windows")}
    return LastRun(path, args.get("command") or "run", tuple(args.get("argv") or ()), again,
                   data.get("run_id"), windows)


def plan_retry(loaded: object, last: LastRun, command: str) -> Plan:
    from dbt_braid.run.session import RUNS_PYTHON, Loaded, runnable_types

    assert isinstance(loaded, Loaded)
    present = {u for u in last.again if u in loaded.graph}
    return make_plan(loaded.graph, present, runnable_types(command),
                     include_python=command in RUNS_PYTHON)
