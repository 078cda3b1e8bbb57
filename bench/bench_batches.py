"""What one more dbt batch costs inside a braid run, against dbt's own ways of running it.

On generated projects of 50 and 500 models, in one process that has parsed the project once
(as ``braid run`` has), the same one-model batch is run again and again:

- braid's batch: ``DbtProject.invoke`` (what the engine calls per batch: exact node set,
  the parsed manifest, braid's vars);
- dbt's own in-process invocation: ``dbtRunner(manifest=...).invoke(["run", "-s", model])``;
- a fresh ``dbt run -s model`` process (what the hand-written way pays per extra step).

Goal: braid's batch costs no more than dbt's own in-process invocation.

    .venv/bin/python bench/bench_batches.py --models 50 500 --rounds 7
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path

from common import alternate, describe_machine, env, median, run, tool
from generate import write_project


def bench(models: int, rounds: int) -> None:
    from dbt.cli.main import dbtRunner
    from dbt_braid.dbtcore.project import DbtOptions, DbtProject

    with tempfile.TemporaryDirectory() as folder:
        root = write_project(Path(folder) / f"p{models}", models, seed=2)
        db = Path(folder) / "gen.duckdb"
        environ = env(BRAID_GEN_DB=str(db))
        os.environ["BRAID_GEN_DB"] = str(db)
        os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
        run([tool("dbt"), "seed"], root, environ)
        run([tool("dbt"), "run"], root, environ)
        # the fresh processes get a copy of the database: this process holds the file open
        copy = Path(folder) / "fresh.duckdb"
        shutil.copyfile(db, copy)
        fresh_env = env(BRAID_GEN_DB=str(copy))
        dirs = ["--project-dir", str(root), "--profiles-dir", str(root)]
        project = DbtProject(DbtOptions(str(root), str(root)))
        project.parse()
        project.run_id = "bench"
        model = "m00000"
        uid = f"model.gen.{model}"

        def braid_batch() -> None:
            result = project.invoke("run", [uid], ["--quiet"])
            assert result.success, result.exception

        def dbt_in_process() -> None:
            result = dbtRunner(manifest=project.manifest).invoke(
                ["run", "-s", model, "--quiet", *dirs])
            assert result.success, result.exception

        def fresh_process() -> float:
            return run([tool("dbt"), "run", "-s", model, "--quiet"], root, fresh_env)

        times = alternate({"braid batch": braid_batch, "dbt in-process": dbt_in_process,
                           "dbt process": fresh_process}, rounds)
        b, d, f = (median(times[k]) for k in ("braid batch", "dbt in-process", "dbt process"))
        import gc

        gc.unfreeze()  # DbtProject.parse froze the manifest; let DuckDB's objects go cleanly
        print(f"{models} models: braid batch {b:.3f} s, dbt in-process invocation {d:.3f} s, "
              f"fresh dbt run process {f:.2f} s; braid/dbt in-process = {b / d:.2f}, "
              f"braid/fresh process = {b / f:.2f} (medians of {rounds})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", type=int, nargs="+", default=[50, 500])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    print(describe_machine())
    for models in args.models:
        bench(models, args.rounds)


if __name__ == "__main__":
    main()
