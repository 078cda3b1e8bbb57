"""The seed scenario: ``braid run`` vs the hand-written sequence, on integration_tests/.

Hand-written: ``dbt run`` of everything upstream of the Python step, a Python script that
loads the exchange rates, trains and predicts (bench/handwritten_seed.py, the same
functions), then ``dbt run`` of what reads the results. braid: one ``braid run`` of the same
nodes (the file export at the end is left out of both). Goal: braid/hand-written <= 0.6.

    .venv/bin/python bench/bench_seed.py --rounds 5
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from common import REPO, alternate, describe_machine, env, median, run, tool

FIRST = ["stg_customers", "stg_orders", "fct_orders", "fct_daily_orders"]
SECOND = ["forecast_summary", "fct_orders_usd"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(describe_machine())
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "it"
        shutil.copytree(REPO / "integration_tests", root, ignore=shutil.ignore_patterns(
            "target", "dbt_packages", "logs", ".braid", "*.duckdb", "package-lock.yml"))
        (root / "packages.yml").write_text(f"packages:\n  - local: {REPO}\n")
        db = Path(folder) / "it.duckdb"
        environ = env(BRAID_DUCKDB_PATH=str(db))
        flags = ["--profiles-dir", str(root)]
        run([tool("dbt"), "deps", *flags], root, environ)
        run([tool("dbt"), "seed", *flags], root, environ)

        def handwritten() -> None:
            run([tool("dbt"), "run", "-s", *FIRST, *flags], root, environ)
            run([sys.executable, str(Path(__file__).with_name("handwritten_seed.py")),
                 str(root), str(db)], root, environ)
            run([tool("dbt"), "run", "-s", *SECOND, *flags], root, environ)

        times = alternate({
            "hand-written": handwritten,
            "braid run": lambda: run([tool("braid"), "run", "--exclude", "daily_orders_export",
                                      *flags], root, environ),
        }, args.rounds)
        h, b = median(times["hand-written"]), median(times["braid run"])
        print(f"seed scenario: hand-written median {h:.2f} s, braid run median {b:.2f} s, "
              f"braid/hand-written = {b / h:.2f} ({args.rounds} rounds; all: hand-written "
              f"{[round(t, 2) for t in times['hand-written']]}, braid "
              f"{[round(t, 2) for t in times['braid run']]})")


if __name__ == "__main__":
    main()
