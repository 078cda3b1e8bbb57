"""Which windows each partitioned asset of a run computes, and which inputs are windowed.

:func:`plan_windows` is pure: history's latest successful window per asset, the clock and
the run's flags in; windows out. :func:`event_time_columns` reads dbt's ``event_time``
configs (models, seeds, snapshots, sources) and braid's own (partitioned assets).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from dbt_braid.core.assets import PythonAsset
from dbt_braid.core.windows import Window


def plan_windows(assets: Iterable[PythonAsset], done: Mapping[str, str], now: datetime, *,
                 event_start: datetime | None = None, event_end: datetime | None = None,
                 full_refresh: bool = False,
                 only: Mapping[str, Sequence[str]] | None = None) -> dict[str, list[Window]]:
    """unique_id -> the windows it computes. ``done``: the key of each asset's latest
    successful window; ``only`` (``braid retry``): exactly these windows of these assets."""
    planned: dict[str, list[Window]] = {}
    for asset in assets:
        spec = asset.partitions
        if spec is None:
            continue
        if only is not None and asset.unique_id in only:
            planned[asset.unique_id] = sorted({spec.window_of(k) for k in only[asset.unique_id]})
            continue
        last = done.get(asset.unique_id)
        planned[asset.unique_id] = spec.windows(
            now=now, last_done=spec.window_of(last).start if last else None,
            event_start=event_start, event_end=event_end, full_refresh=full_refresh)
    return planned


def event_time_columns(manifest: Any, assets: Mapping[str, PythonAsset]) -> dict[str, str]:
    """unique_id -> event_time column, for every node a partitioned asset may read windowed:
    dbt's ``event_time`` config of a model, seed, snapshot or source; a Python asset's
    ``partitions.event_time``, else its source table's ``event_time``."""
    found: dict[str, str] = {}
    for uid, node in [*manifest.nodes.items(), *manifest.sources.items()]:
        column = getattr(getattr(node, "config", None), "event_time", None)
        if column:
            found[uid] = str(column)
    for uid, asset in assets.items():
        if asset.partitions is not None:
            found[uid] = asset.partitions.event_time
        elif asset.declared_by in found:
            found[uid] = found[asset.declared_by]
    return found
