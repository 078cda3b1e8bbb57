"""The package's ready-made ``braid.loaders.load_file``, used from YAML alone in a real project."""

from __future__ import annotations

import json

import pandas as pd
from helpers import BRAID_PACKAGE

EVERY_FILE_FORMAT = {
    **BRAID_PACKAGE,
    "models/sources.yml": """
        version: 2
        sources:
          - name: files
            schema: files
            tables:
              - name: from_csv
                config: {meta: {braid: {python: braid.loaders.load_file,
                                        params: {path: data/rates.csv}}}}
              - name: from_semicolons
                config: {meta: {braid: {python: braid.loaders.load_file,
                                        params: {path: data/rates.txt, format: csv,
                                                 sep: ";"}}}}
              - name: from_parquet
                config: {meta: {braid: {python: braid.loaders.load_file,
                                        params: {path: data/rates.parquet}}}}
              - name: from_jsonl
                config: {meta: {braid: {python: braid.loaders.load_file,
                                        params: {path: data/rates.ndjson}}}}
              - name: from_json
                config: {meta: {braid: {python: braid.loaders.load_file,
                                        params: {path: data/rates.json}}}}
              - name: missing
                config: {meta: {braid: {python: braid.loaders.load_file,
                                        params: {path: data/nope.csv}}}}
        """,
    "models/total.sql": """
        select sum(rate) as total from {{ source('files', 'from_csv') }}
        """,
    "data/rates.csv": "currency,rate\nEUR,1.5\nGBP,2.0\n",
    "data/rates.txt": "currency;rate\nEUR;1.5\nGBP;2.0\n",
}


def test_load_file_reads_every_format_from_yaml_alone(make_project) -> None:
    project = make_project(EVERY_FILE_FORMAT)
    frame = pd.DataFrame({"currency": ["EUR", "GBP"], "rate": [1.5, 2.0]})
    frame.to_parquet(project.root / "data" / "rates.parquet")
    (project.root / "data" / "rates.ndjson").write_text(
        "\n".join(json.dumps(r) for r in frame.to_dict("records")) + "\n")
    frame.to_json(project.root / "data" / "rates.json", orient="records")

    assert project.braid("deps").returncode == 0
    done = project.braid("run")
    assert done.returncode == 1  # the missing file fails; everything else succeeds
    for table in ("from_csv", "from_semicolons", "from_parquet", "from_jsonl", "from_json"):
        rows = project.sql(f"select currency, rate from files.{table} order by currency")
        assert rows == [("EUR", 1.5), ("GBP", 2.0)], table
    assert project.sql("select total from total") == [(3.5,)]
    run = json.loads((project.root / "target/braid/run_results.json").read_text())
    missing = next(r for r in run["results"] if r["name"] == "missing")
    assert missing["status"] == "error"
    assert "file not found" in missing["message"] and "data/nope.csv" in missing["message"]
