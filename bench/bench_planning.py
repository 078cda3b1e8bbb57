"""Selection and planning at scale: a generated project of N models and P Python assets.

dbt parses the project once (not timed as braid's: it is dbt's own cost), then this times
what braid adds on top: resolving the declarations, building the unified graph, evaluating
a selection with dbt's selector over it, and planning. Peak memory is the process's.

    .venv/bin/python bench/bench_planning.py --models 10000 --python-assets 500
"""

from __future__ import annotations

import argparse
import gc
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from dbt_braid.dbtcore.project import DbtOptions, DbtProject  # noqa: E402
from dbt_braid.run import session  # noqa: E402
from dbt_braid.selection.select import SelectionRequest  # noqa: E402
from generate import write_project  # noqa: E402

SELECTIONS = (
    [],
    ["+m{last}"],
    ["m00100+"],
    ["tag:finance", "tag:core,config.materialized:table"],
    ["@m{mid}"],
    ["resource_type:python+1"],
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", type=int, default=10_000)
    parser.add_argument("--python-assets", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="braid-bench-")) / "gen"
    write_project(root, args.models, args.python_assets, seed=1, layers=20)
    options = DbtOptions(project_dir=str(root), profiles_dir=str(root))

    t0 = time.perf_counter()
    project = DbtProject(options)
    project.parse()
    parse = time.perf_counter() - t0

    original = DbtProject.parse
    DbtProject.parse = lambda self: setattr(self, "manifest", project.manifest) or setattr(  # type: ignore[method-assign]
        self, "config", project.config) or project.manifest
    loads = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        loaded = session.load(options, "run")
        loads.append(time.perf_counter() - t0)
    DbtProject.parse = original  # type: ignore[method-assign]

    last, mid = f"{args.models - 1:05d}", f"{args.models // 2:05d}"
    print(f"project: {args.models} models, {len(loaded.assets)} Python assets, "
          f"{loaded.graph.number_of_nodes()} graph nodes, {loaded.graph.number_of_edges()} edges")
    print(f"dbt parse (dbt's own cost, once): {parse:.2f}s")
    print(f"braid load beyond parsing (resolve + graph + cycle check), median of "
          f"{args.repeat}: {statistics.median(loads):.3f}s")
    worst = 0.0
    for raw in SELECTIONS:
        select = [s.format(last=last, mid=mid) for s in raw]
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            selected, _ = session.select_nodes(loaded, SelectionRequest(select=select))
            plan = session.make_plan(loaded.graph, selected, session.runnable_types("run"))
            times.append(time.perf_counter() - t0)
        median = statistics.median(times)
        worst = max(worst, median)
        print(f"select+plan {' '.join(select) or '(all)':45s} {len(selected):6d} nodes "
              f"{len(plan.batches):3d} batches  median {median:.3f}s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"worst selection+plan median: {worst:.3f}s; peak RSS {peak:.0f} MiB")
    gc.unfreeze()  # DbtProject.parse froze the manifest; let DuckDB tear down cleanly


if __name__ == "__main__":
    main()
