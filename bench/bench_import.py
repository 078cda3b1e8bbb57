"""``braid ls`` on a project whose asset module imports something slow, vs ``dbt ls``.

braid reads declarations from the source (``dbt_braid.declare``), so a command that runs no
Python never imports an asset module. Here the generated project's (bench/generate.py)
asset module imports a sibling module that sleeps 1.5 s at import time, standing in for a
heavy library (scikit-learn costs about that). ``dbt ls`` never imports it; neither should
``braid ls``. Goal: braid ls / dbt ls <= 1.1 (the 1.5 s import is not paid).

``--before DIR`` adds a third side: ``braid ls`` run from another braid source tree (its
``plugin/src``, e.g. exported from an older commit with ``git archive``), for a before/after.

    .venv/bin/python bench/bench_import.py --models 100 --rounds 5
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from common import alternate, describe_machine, env, median, run, tool
from generate import write_project

SLOW_SECONDS = 1.5


def slow_project(root: Path, models: int, assets: int) -> Path:
    """A generated project whose asset module imports a module that takes 1.5 s to import."""
    write_project(root, models, python_assets=assets, seed=1)
    folder = root / "python_assets"
    (folder / "heavy_library.py").write_text(
        '"""Stands in for a library that is slow to import."""\n'
        f"import time\n\ntime.sleep({SLOW_SECONDS})\n\n\ndef identity(frame):\n    return frame\n"
    )
    (folder / "assets.py").write_text(
        "from .heavy_library import identity\n\n\n"
        'def passthrough(first):\n    """Copy the upstream rows."""\n    return identity(first)\n'
    )
    return root


def bench(models: int, assets: int, rounds: int, before: Path | None) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = slow_project(Path(folder) / "slow", models, assets)
        environ = env(BRAID_GEN_DB=str(Path(folder) / "gen.duckdb"))
        run([tool("braid"), "ls"], root, environ)  # parses once: partial parsing for all sides
        sides = {
            "dbt ls": lambda: run([tool("dbt"), "ls"], root, environ),
            "braid ls": lambda: run([tool("braid"), "ls"], root, environ),
        }
        if before is not None:
            old = env(BRAID_GEN_DB=str(Path(folder) / "gen.duckdb"), PYTHONPATH=str(before))
            sides["braid ls (before)"] = lambda: run([tool("braid"), "ls"], root, old)
        times = alternate(sides, rounds)
        d, b = median(times["dbt ls"]), median(times["braid ls"])
        line = (f"{models} models, {assets} Python assets importing a {SLOW_SECONDS} s module: "
                f"dbt ls median {d:.2f} s, braid ls median {b:.2f} s, braid/dbt = {b / d:.3f}")
        if before is not None:
            o = median(times["braid ls (before)"])
            line += f"; before: braid ls median {o:.2f} s, braid/dbt = {o / d:.3f}"
        print(f"{line} ({rounds} rounds; all: "
              + ", ".join(f"{k} {[round(t, 2) for t in v]}" for k, v in times.items()) + ")")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", type=int, nargs="+", default=[100])
    parser.add_argument("--assets", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--before", type=Path, help="another braid's plugin/src to compare")
    args = parser.parse_args()
    print(describe_machine())
    for models in args.models:
        bench(models, args.assets, args.rounds, args.before)


if __name__ == "__main__":
    main()
