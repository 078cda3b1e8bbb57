"""Writing braid's run history: N node rows through the package's macros on DuckDB.

Compares the generic path (``default__insert_history``: rows rendered as chunked INSERT
statements by Jinja) with DuckDB's (``duckdb__insert_history``: one INSERT ... SELECT from a
newline-delimited JSON file), both through ``dbt run-operation`` in-process, in one run.

    .venv/bin/python bench/bench_history.py --rows 10000
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from dbt.cli.main import dbtRunner
from dbt_braid.dbtcore.project import DbtOptions, DbtProject
from dbt_braid.history import store

REPO = Path(__file__).resolve().parents[1]


def rows(n: int, run_id: str) -> list[dict]:
    return [{
        "run_id": run_id, "unique_id": f"model.bench.m{i:05d}", "name": f"m{i:05d}",
        "kind": "model", "status": "success", "started_at": "2026-01-01 00:00:00.000000",
        "completed_at": "2026-01-01 00:00:01.000000", "rows_written": i, "message": "OK",
        "code_version": "0" * 64, "input_versions": '{"model.bench.m00000": "x"}',
    } for i in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="braid-bench-")) / "it"
    shutil.copytree(REPO / "integration_tests", root, ignore=shutil.ignore_patterns(
        "target", "dbt_packages", "logs", ".braid", "*.duckdb", "package-lock.yml"))
    (root / "packages.yml").write_text(f"packages:\n  - local: {REPO}\n")
    os.environ["BRAID_DUCKDB_PATH"] = str(root / "bench.duckdb")
    flags = ["--project-dir", str(root), "--profiles-dir", str(root)]
    assert dbtRunner().invoke(["deps", *flags]).success
    project = DbtProject(DbtOptions(project_dir=str(root), profiles_dir=str(root)))
    project.parse()
    run = [{"run_id": "r", "command": "bench", "selection": None, "target_name": "duckdb",
            "started_at": None, "completed_at": None, "status": "success",
            "braid_version": None, "dbt_version": None}]
    generic, duckdb_file = [], []
    for _ in range(args.repeat):
        data = rows(args.rows, str(uuid.uuid4()))
        t0 = time.perf_counter()
        done = project.run_operation("braid.insert_history", {"runs": run, "nodes": data})
        assert done.success, done.exception
        generic.append(time.perf_counter() - t0)
        data = rows(args.rows, str(uuid.uuid4()))
        t0 = time.perf_counter()
        assert store.write(project, run, data) is None
        duckdb_file.append(time.perf_counter() - t0)
    g, d = statistics.median(generic), statistics.median(duckdb_file)
    print(f"{args.rows} node rows, median of {args.repeat}: generic (Jinja INSERTs) {g:.2f}s, "
          f"DuckDB (read_json) {d:.2f}s, ratio {g / d:.1f}x")
    gc.unfreeze()


if __name__ == "__main__":
    main()
