"""Writes ``target/braid/lineage.json``: the unified graph of dbt nodes and Python assets
(the payload of :mod:`dbt_braid.emit.lineage`)."""

from __future__ import annotations

from dbt_braid.builtins.artifacts import write_json
from dbt_braid.core.markers import hookimpl
from dbt_braid.core.results import RunReport
from dbt_braid.emit.lineage import lineage_payload


@hookimpl
def write_artifacts(report: RunReport) -> None:
    write_json(report.target_dir / "lineage.json", lineage_payload(report.graph))
