"""A partitioned asset's write of one window, through its table IO manager.

The window's rows replace exactly ``[start, end)`` of ``event_time`` (``replace_window``,
one transaction). The first window of a ``--full-refresh`` replaces the whole table, as dbt
rebuilds a microbatch model from its first batch. A window that returned no rows takes its
columns' types from the table: an empty frame built from nothing has untyped columns.
"""

from __future__ import annotations

from typing import Any

from dbt_braid.core.assets import PythonAsset
from dbt_braid.core.windows import Window
from dbt_braid.io.base import StoredRef, WindowReads, supports
from dbt_braid.io.frames import columns_of
from dbt_braid.io.window_frames import window_rows


def store_window(manager: Any, asset: PythonAsset, value: Any, window: Window,
                 rebuild: bool = False) -> int | None:
    """Write ``value`` as ``window`` of the asset's table; the rows written."""
    assert asset.partitions is not None
    column = asset.partitions.event_time
    if no_rows(value):
        value = typed_as_table(manager, asset, value, window)
    if rebuild:
        table, _, _ = window_rows(value, column, window)
        return manager.store(asset, table)
    return manager.replace_window(asset, value, column, window)


def no_rows(value: Any) -> bool:
    """Whether a returned frame (pandas, polars or Arrow) has no rows."""
    try:
        return len(value) == 0
    except TypeError:
        return False


def typed_as_table(manager: Any, asset: PythonAsset, value: Any, window: Window) -> Any:
    """An empty result as an empty Arrow table of the table's column types (a returned
    column the table lacks stays text); unchanged when there is no table yet."""
    import pyarrow as pa

    assert asset.partitions is not None
    if not supports(manager, WindowReads):
        return value
    low = window.naive_utc[0]
    ref = StoredRef(asset.unique_id, asset.name, asset.package_name, asset.relation)
    try:  # the window [low, low) of the table: no rows, its columns and their types
        existing = manager.load_window(ref, "pyarrow.Table", asset.partitions.event_time,
                                       low, low).schema
    except LookupError:
        return value
    return pa.table({name: pa.array([], type=existing.field(name).type
                                    if name in existing.names else pa.string())
                     for name, _ in columns_of(value) or []})
