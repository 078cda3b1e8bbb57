"""Shared by the benchmarks: run commands, alternate the sides, report medians and ratios.

Machines here are noisy, so every comparison runs both sides in the same process,
alternating their order round by round, and reports medians and the ratio of medians.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    """A command of this venv (braid, dbt)."""
    return str(BIN / name)


def env(**extra: str) -> dict[str, str]:
    return {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **extra}


def run(args: list[str], cwd: Path, environ: Mapping[str, str] | None = None,
        check: bool = True) -> float:
    """Run a command to completion; its wall time in seconds. Fails loudly if it fails."""
    start = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, env=dict(environ or env()), capture_output=True,
                          text=True)
    elapsed = time.perf_counter() - start
    if check and done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}):\n"
                         f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return elapsed


def alternate(sides: Mapping[str, Callable[[], float | None]], rounds: int,
              warmup: int = 1) -> dict[str, list[float]]:
    """Each side ``rounds`` times, order rotated per round; a side returns its own time or
    None to be timed here."""
    names = list(sides)
    for _ in range(warmup):
        for name in names:
            sides[name]()
    times: dict[str, list[float]] = {n: [] for n in names}
    for i in range(rounds):
        order = names[i % len(names):] + names[:i % len(names)]
        for name in order:
            start = time.perf_counter()
            own = sides[name]()
            times[name].append(own if own is not None else time.perf_counter() - start)
    return times


def median(values: list[float]) -> float:
    return statistics.median(values)


def describe_machine() -> str:
    import dbt.version
    import duckdb

    return (f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"dbt-core {dbt.version.__version__}, DuckDB {duckdb.__version__}")


def write_small_project(root: Path, files: Mapping[str, str], threads: int) -> None:
    """A dbt project ``bench`` in ``root`` on the DuckDB file $BRAID_BENCH_DB, with
    ``files`` (path -> text) beside its dbt_project.yml and profiles.yml."""
    profile = ("bench:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
               "      path: \"{{ env_var('BRAID_BENCH_DB') }}\"\n"
               f"      threads: {threads}\n")
    project = "name: bench\nversion: '1.0'\nconfig-version: 2\nprofile: bench\n"
    for rel, text in {"dbt_project.yml": project, "profiles.yml": profile, **files}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
