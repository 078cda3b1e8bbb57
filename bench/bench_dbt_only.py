"""braid's overhead on a dbt-only selection of a project that has Python assets, and the
project-hooks case.

The project (bench/bench_import.py's ``slow_project``) has Python assets whose module takes
1.5 s to import, standing in for scikit-learn. ``-s tag:finance`` selects models only, so
``braid run`` must cost what ``dbt run`` does: no asset module imported, one dbt invocation.

The hooks case adds an ``on-run-end`` hook that takes about 3 s (a DuckDB query). On a
dbt-only selection both sides run it once; on a full ``braid run`` (several dbt batches
with Python assets between them) braid still runs it once, so the full run with the hook
costs one hook more than the full run without it, not one per batch.

Goal (issue 13): braid/dbt <= 1.03 on the dbt-only selections.

    .venv/bin/python bench/bench_dbt_only.py --models 100 --rounds 5
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from bench_import import slow_project
from common import alternate, describe_machine, env, median, run, tool

#: about 3 s of DuckDB work on the benchmark machines: well above the runs' noise
SLOW_HOOK = "select sum(hash(i) % 7) from range(400000000) t(i)"
SELECTION = ["-s", "tag:finance"]


def with_hook(root: Path, hook: bool) -> None:
    project = root / "dbt_project.yml"
    text = project.read_text().split("on-run-end:")[0]
    if hook:
        text += f'on-run-end: ["{SLOW_HOOK}"]\n'
    project.write_text(text)


def hook_runs(root: Path) -> int:
    results = json.loads((root / "target" / "run_results.json").read_text())["results"]
    return sum(1 for r in results if "on-run-end" in r["unique_id"])


def bench(models: int, assets: int, rounds: int, hooks: bool = True) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = slow_project(Path(folder) / "p", models, assets)
        environ = env(BRAID_GEN_DB=str(Path(folder) / "gen.duckdb"))
        run([tool("dbt"), "seed"], root, environ)
        run([tool("braid"), "run"], root, environ)  # every table exists: dbt can read them
        dbt_median: dict[bool, float] = {}
        for hook in (False, True) if hooks else (False,):
            with_hook(root, hook)
            times = alternate({
                "dbt run": lambda: run([tool("dbt"), "run", *SELECTION], root, environ),
                "braid run": lambda: run([tool("braid"), "run", *SELECTION], root, environ),
            }, rounds)
            d, b = median(times["dbt run"]), median(times["braid run"])
            dbt_median[hook] = d
            what = "with a ~3 s on-run-end hook" if hook else "no hooks"
            print(f"dbt-only selection ({' '.join(SELECTION)}), {what}: dbt run {d:.2f} s, "
                  f"braid run {b:.2f} s, braid/dbt = {b / d:.3f} ({rounds} rounds; all: "
                  + ", ".join(f"{k} {[round(t, 2) for t in v]}" for k, v in times.items())
                  + ")")
        if not hooks:
            return
        full: dict[bool, float] = {}
        for hook in (False, True):
            with_hook(root, hook)
            full[hook] = median(alternate(
                {"full": lambda: run([tool("braid"), "run"], root, environ)}, rounds)["full"])
            if hook:
                print(f"full braid run: on-run-end ran {hook_runs(root)} time(s)")
        hook_cost = dbt_median[True] - dbt_median[False]
        extra = full[True] - full[False]
        print(f"full braid run ({assets} Python assets, several dbt batches): "
              f"{full[False]:.2f} s without the hook, {full[True]:.2f} s with it: "
              f"+{extra:.2f} s, the hook's own cost in dbt run being {hook_cost:.2f} s "
              f"(ratio {extra / hook_cost:.2f}; 1 = the hook ran once)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--assets", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-hooks", action="store_true", help="only the first case")
    args = parser.parse_args()
    print(describe_machine())
    bench(args.models, args.assets, args.rounds, hooks=not args.no_hooks)


if __name__ == "__main__":
    main()
