"""braid's overhead on pure-dbt projects: ``braid run`` vs ``dbt run``, as processes.

Generated projects (bench/generate.py) of 100 and 1,000 models, no Python assets; each side
is the whole command from the shell, parse included, on the same project and DuckDB file,
alternating. Goal: braid/dbt <= 1.03.

    .venv/bin/python bench/bench_overhead.py --models 100 1000 --rounds 5
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from common import alternate, describe_machine, env, median, run, tool
from generate import write_project


def bench(models: int, rounds: int, threads: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = write_project(Path(folder) / f"p{models}", models, seed=1)
        environ = env(BRAID_GEN_DB=str(Path(folder) / "gen.duckdb"))
        flags = ["--threads", str(threads)]
        run([tool("dbt"), "seed"], root, environ)
        times = alternate({
            "dbt run": lambda: run([tool("dbt"), "run", *flags], root, environ),
            "braid run": lambda: run([tool("braid"), "run", *flags], root, environ),
        }, rounds)
        d, b = median(times["dbt run"]), median(times["braid run"])
        print(f"{models} models: dbt run median {d:.2f} s, braid run median {b:.2f} s, "
              f"braid/dbt = {b / d:.3f} ({rounds} rounds; all: dbt "
              f"{[round(t, 2) for t in times['dbt run']]}, braid "
              f"{[round(t, 2) for t in times['braid run']]})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    print(describe_machine())
    for models in args.models:
        bench(models, args.rounds, args.threads)


if __name__ == "__main__":
    main()
