"""A partitioned asset's returned rows, checked against its window before any write.

Only the window's rows may come back: a write replaces exactly ``[start, end)`` of the
``event_time`` column, so a row outside it would land in a window nobody recomputed.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from dbt_braid.core.windows import Window
from dbt_braid.io.frames import to_arrow

if TYPE_CHECKING:
    import pyarrow as pa


def bounds(kind: pa.DataType, window: Window) -> tuple[Any, Any]:
    """The window's start and end as values of the column's type (dates for a date column,
    naive UTC datetimes for a timestamp one, as the warehouse compares them)."""
    import pyarrow as pa

    start, end = window.naive_utc
    if pa.types.is_date(kind):
        if window.size == "hour":
            raise ValueError("an hourly window needs a timestamp event_time column, not a date")
        return start.date(), end.date()
    if pa.types.is_timestamp(kind):
        return start, end
    raise ValueError(f"the event_time column must be a date or a timestamp, not {kind}")


def window_rows(value: Any, column: str, window: Window) -> tuple[pa.Table, Any, Any]:
    """The returned frame as an Arrow table whose ``column`` lies inside ``window``, with the
    window's bounds in the column's type; ValueError saying what is wrong otherwise."""
    import pyarrow as pa
    import pyarrow.compute as pc

    data = to_arrow(value)
    table = data.read_all() if isinstance(data, pa.RecordBatchReader) else data
    if column not in table.schema.names:
        raise ValueError(f"the returned frame has no event_time column {column!r}; "
                         f"its columns: {', '.join(table.schema.names)}")
    values = table.column(column)
    low, high = bounds(values.type, window)
    if values.null_count:
        raise ValueError(f"{values.null_count} row(s) have no {column}: every row belongs to "
                         f"a window, so give each one its {column}")
    if table.num_rows:
        kind = values.type
        unit = kind.unit if pa.types.is_timestamp(kind) else None
        start = pa.scalar(low, type=pa.timestamp(unit) if unit else pa.date32())
        end = pa.scalar(high, type=pa.timestamp(unit) if unit else pa.date32())
        plain = values.cast(pa.timestamp(unit)) if unit and kind.tz else values
        outside = pc.or_(pc.less(plain, start), pc.greater_equal(plain, end))
        count = pc.sum(outside).as_py() or 0
        if count:
            first = pc.filter(plain, outside)[0].as_py()
            shown = first.isoformat() if isinstance(first, (date, datetime)) else first
            raise ValueError(f"{count} row(s) fall outside the window {window.key} "
                             f"([{low}, {high})), e.g. {column} = {shown}; return only the "
                             "window's rows (context.partition has its start and end)")
    return table, low, high


def window_where(quoted_column: str, low: Any, high: Any) -> str:
    """``col >= start and col < end`` with the bounds as SQL literals (dates or timestamps
    braid made itself, never user text), for reading an input's window."""
    def literal(value: Any) -> str:
        if isinstance(value, datetime):
            return f"cast('{value.isoformat(sep=' ')}' as timestamp)"
        if isinstance(value, date):
            return f"cast('{value.isoformat()}' as date)"
        raise TypeError(f"a window bound must be a date or a datetime, not {type(value)}")

    return f"{quoted_column} >= {literal(low)} and {quoted_column} < {literal(high)}"
