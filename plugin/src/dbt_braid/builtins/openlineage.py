"""OpenLineage events for every dbt node and Python asset that ran, through OpenLineage's client.

Configured the standard ways (``OPENLINEAGE_URL``, ``OPENLINEAGE_CONFIG``, ``openlineage.yml``
in the working directory or ``~/.openlineage``, ``OPENLINEAGE__TRANSPORT__*``); nothing is
sent otherwise, and ``OPENLINEAGE_DISABLED=true`` turns it off. The events (datasets named as
OpenLineage's dbt integration names them, each node's run with the braid run as its parent)
are built by :mod:`dbt_braid.emit.openlineage`; this plugin sends them all at the run's end
when no live stream (``builtins.openlineage_live``) sent them as they happened. Sending never
fails a run: an unreachable backend is a warning.
"""

from __future__ import annotations

from dbt_braid import console
from dbt_braid.builtins import openlineage_live as live_stream
from dbt_braid.core.markers import hookimpl
from dbt_braid.core.results import RunReport
from dbt_braid.dbtcore.project import DbtProject
from dbt_braid.emit.openlineage import configured, run_events


@hookimpl
def emit_lineage(report: RunReport, project: DbtProject) -> None:
    live = live_stream.finish(report.run_id)
    if live is not None:
        live.end(report)
        return
    if not configured():
        return
    try:
        from openlineage.client import OpenLineageClient

        client = OpenLineageClient()
        for event in run_events(report, project):
            client.emit(event)
    except Exception as exc:  # lineage is a side channel: never fail the run for it
        console.warn(
            f"braid: could not send OpenLineage events: {type(exc).__name__}: {exc}")
