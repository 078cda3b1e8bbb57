"""Writes ``target/braid/lineage.json``: the unified graph of dbt nodes and Python assets
(the payload of :mod:`dbt_braid.emit.lineage`)."""

from __future__ import annotations

from dbt_braid.builtins.artifacts import write_json
from dbt_braid.emit.lineage import lineage_payload
from dbt_braid.execution.results import RunReport
from dbt_braid.hookspecs import hookimpl


@hookimpl
def write_artifacts(report: RunReport) -> None:
    write_json(report.target_dir / "lineage.json", lineage_payload(report.graph))
