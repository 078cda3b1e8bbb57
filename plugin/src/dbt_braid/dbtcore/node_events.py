"""A Python asset's START, result and SKIP lines as dbt's own node events.

A log shipper that reads dbt's ``--log-format json`` finds a model's lines as
``LogStartLine`` and ``LogModelResult`` (``SkippingDetails`` for a skip), each with a
``node_info``. braid fires the same events for a Python asset, with a ``node_info`` of the
same keys (``unique_id`` the asset's, ``node_status`` its result), so one query covers both
kinds. The text of each line stays braid's own ("OK python asset p ... [wrote 3 rows to
...]"): dbt's ``LogModelResult`` words a model's result ("OK created ..."), so braid's
subclass keeps dbt's name, code and fields and only words the text.

What these use is what dbt-core 1.10, 1.11 and 1.12 share (their protos come from
``dbt-protos``): ``LogStartLine(description, index, total, node_info)``,
``LogModelResult(description, status, index, total, execution_time, node_info)``,
``SkippingDetails(resource_type, schema, node_name, index, total, node_info)`` and the
eleven ``node_info`` keys below (``group``, which all three also have, is left out: a
Python asset's group is a name, dbt's a message of its own).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dbt_braid.core.assets import PythonAsset

#: how a Python asset is named in the lines ("START python asset p")
DESCRIBED_AS = "python asset"


def now() -> str:
    """A timestamp as dbt writes ``node_started_at``/``node_finished_at`` (naive UTC)."""
    return datetime.now(timezone.utc).replace(tzinfo=None).isoformat()


def node_info(asset: PythonAsset, status: str, started: str | None = None,
              finished: str | None = None, relation_name: str | None = None
              ) -> dict[str, Any]:
    """The asset as dbt's ``node_info`` describes a node (``NodeInfoMixin.node_info``)."""
    relation = asset.relation
    return {
        "node_path": asset.module_file,
        "node_name": asset.name,
        "unique_id": asset.unique_id,
        # as target/braid/run_results.json and history name the kind
        "resource_type": "python",
        "materialized": asset.io,
        "node_status": status,
        "node_started_at": started,
        "node_finished_at": finished,
        "meta": {},
        "node_relation": {
            "database": relation.database if relation else None,
            "schema": relation.schema if relation else None,
            "alias": relation.identifier if relation else None,
            "relation_name": relation_name or (str(relation) if relation else None),
        },
        # what changes when the asset's code does (declare.code_version), as dbt's checksum
        "node_checksum": asset.code_version or None,
    }


def relation_names(manifest: Any, assets: Mapping[str, PythonAsset]) -> dict[str, str]:
    """Each source-table asset's relation as dbt names its source (quoted by the adapter,
    as a model's ``node_relation.relation_name`` is)."""
    found = {}
    for uid, asset in assets.items():
        source = manifest.sources.get(asset.declared_by)
        name = getattr(source, "relation_name", None)
        if name:
            found[uid] = str(name)
    return found


def start_event(asset: PythonAsset, index: int, total: int, info: Mapping[str, Any]) -> Any:
    from dbt.events.types import LogStartLine

    return LogStartLine(description=f"{DESCRIBED_AS} {asset.name}", index=index, total=total,
                        node_info=dict(info))


def result_event(asset: PythonAsset, status: str, message: str | None, index: int | None,
                 total: int, took: float, info: Mapping[str, Any]) -> Any:
    """``status`` is the result's (``success``, ``error``...); the event's own ``status``
    is what dbt puts there: the result's message when it succeeded, else its status."""
    shown = (message or "OK" if status == "success" else message or "NO-OP"
             if status == "no-op" else "PARTIAL SUCCESS" if status == "partial success"
             else status)
    event_type = _result_type()
    return event_type(description=f"{DESCRIBED_AS} {asset.name}", status=shown,
                      index=index or 0, total=total, execution_time=took,
                      node_info=dict(info))


def skip_event(asset: PythonAsset, index: int, total: int, info: Mapping[str, Any]) -> Any:
    from dbt.events.types import SkippingDetails

    relation = asset.relation
    return SkippingDetails(resource_type=DESCRIBED_AS, schema=relation.schema if relation
                           else "", node_name=asset.name, index=index, total=total,
                           node_info=dict(info))


_RESULT_TYPE: list[type] = []


def _result_type() -> type:
    """dbt's ``LogModelResult`` with braid's words (made once, on first use: importing dbt's
    event types costs time that ``braid ls`` need not spend)."""
    if _RESULT_TYPE:
        return _RESULT_TYPE[0]
    from dbt.events import types
    from dbt_common.events.format import format_fancy_output_line
    from dbt_common.ui import green, red, yellow

    class LogModelResult(types.LogModelResult):
        """The same event (name, code, proto, fields) worded as braid's result line."""

        def message(self) -> str:
            status = self.node_info.node_status
            took: float | None = self.execution_time
            if status == "success":
                word, shown = "OK", green(self.status)
            elif status == "partial success":
                word, shown = "PARTIAL SUCCESS", yellow("PARTIAL SUCCESS")
            elif status == "no-op":
                word, shown, took = "NO-OP", yellow(self.status), None
            else:  # an error, or a call the run's stop cut short
                word, shown = "ERROR", red("ERROR")
            return str(format_fancy_output_line(
                msg=f"{word} {self.description}", status=shown,
                index=self.index or None, total=self.total, execution_time=took))

    _RESULT_TYPE.append(LogModelResult)
    return LogModelResult
