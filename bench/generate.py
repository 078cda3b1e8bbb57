"""Generate dbt projects of any size, with or without Python assets, for tests and benchmarks.

Deterministic for a given seed: models in layered folders, each reading one to three models
of earlier layers (or a source), tags and materializations spread over them, a few seeds,
data tests and exposures. With ``python_assets=N``, N source tables are produced by Python
assets (reading earlier models) and later models read them, so runs need several dbt
batches. Every model is ``select 1 as id``-cheap so dbt's own overhead dominates.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

TAGS = ("finance", "marketing", "core", "nightly", "hourly")


def write_project(
    root: Path,
    models: int,
    python_assets: int = 0,
    seed: int = 0,
    name: str = "gen",
    layers: int = 6,
    db_env: str = "BRAID_GEN_DB",
) -> Path:
    """Write the project into ``root`` (created) and return it."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    (root / "dbt_project.yml").write_text(
        f"name: {name}\nversion: '1.0'\nconfig-version: 2\nprofile: {name}\n"
        "models:\n"
        f"  {name}:\n    +materialized: view\n"
    )
    (root / "profiles.yml").write_text(
        f"{name}:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        f"      path: \"{{{{ env_var('{db_env}', 'target/{name}.duckdb') }}}}\"\n"
        "      threads: 4\n"
    )
    seeds = root / "seeds"
    seeds.mkdir(exist_ok=True)
    for i in range(3):
        (seeds / f"seed_{i}.csv").write_text("id,value\n1,10\n2,20\n")
    per_layer = max(1, models // layers)
    names: list[list[str]] = []
    sources = [f"raw_{i}" for i in range(5)]
    source_yaml = ["version: 2", "sources:", "  - name: raw", "    schema: raw_data", "    tables:"]
    source_yaml += [f"      - name: {s}" for s in sources]
    py_tables: list[tuple[str, list[str]]] = []
    made = 0
    layer = 0
    while made < models:
        folder = root / "models" / f"layer_{layer}"
        folder.mkdir(parents=True, exist_ok=True)
        current: list[str] = []
        schema_lines = ["version: 2", "models:"]
        for _ in range(min(per_layer, models - made)):
            model = f"m{made:05d}"
            parents = []
            if layer == 0:
                parents.append(("seed", f"seed_{rng.randrange(3)}"))
            else:
                pool = [n for layer_names in names for n in layer_names]
                for parent in rng.sample(pool, k=min(len(pool), rng.randint(1, 3))):
                    parents.append(("ref", parent))
                if py_tables and rng.random() < 0.3:
                    parents.append(("py", rng.choice(py_tables)[0]))
            refs = [
                f"{{{{ ref('{p}') }}}}" if kind in ("ref", "seed")
                else f"{{{{ source('py', '{p}') }}}}"
                for kind, p in parents
            ]
            materialized = "table" if rng.random() < 0.3 else "view"
            tags = sorted(set(rng.sample(TAGS, k=rng.randint(0, 2))))
            config = f"{{{{ config(materialized='{materialized}', tags={tags}) }}}}\n"
            body = " union all ".join(f"(select 1 as id from {r} limit 1)" for r in refs)
            (folder / f"{model}.sql").write_text(config + f"select * from ({body}) as u\n")
            schema_lines += [f"  - name: {model}"]
            if rng.random() < 0.2:
                schema_lines += [
                    "    columns:", "      - name: id", "        data_tests: [not_null]"
                ]
            current.append(model)
            made += 1
        (folder / "_schema.yml").write_text("\n".join(schema_lines) + "\n")
        names.append(current)
        if python_assets and layer < layers - 1:
            spread, extra = divmod(python_assets, layers - 1)
            share = spread + (1 if layer < extra else 0)
            for _ in range(share):
                table = f"py_{len(py_tables):05d}"
                py_tables.append((table, rng.sample(current, k=min(2, len(current)))))
        layer += 1
    (root / "models" / "sources.yml").write_text("\n".join(source_yaml) + "\n")
    if py_tables:
        lines = ["version: 2", "sources:", "  - name: py", "    schema: py_out", "    tables:"]
        for table, deps in py_tables:
            lines += [
                f"      - name: {table}",
                "        config:",
                "          meta:",
                "            braid:",
                "              python: assets.passthrough",
                f"              depends_on: {{first: {deps[0]}}}",
            ]
        (root / "models" / "python_sources.yml").write_text("\n".join(lines) + "\n")
        assets = root / "python_assets"
        assets.mkdir(exist_ok=True)
        (assets / "assets.py").write_text(
            "def passthrough(first):\n    \"\"\"Copy the upstream rows.\"\"\"\n    return first\n"
        )
    exposures = ["version: 2", "exposures:"]
    last = names[-1]
    for i in range(2):
        exposures += [
            f"  - name: dashboard_{i}",
            "    type: dashboard",
            "    owner: {name: analytics}",
            f"    depends_on: [ref('{last[i % len(last)]}')]",
        ]
    (root / "models" / "exposures.yml").write_text("\n".join(exposures) + "\n")
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("root", type=Path)
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--python-assets", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    write_project(args.root, args.models, args.python_assets, args.seed)


if __name__ == "__main__":
    main()
