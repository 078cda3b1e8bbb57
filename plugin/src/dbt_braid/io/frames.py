"""Conversions between the frame types an asset may take or return and Arrow.

Arrow is the common currency: DuckDB reads and writes it without row-by-row inserts, and
pandas, polars and pyarrow all convert to and from it cheaply.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa


def wants(annotation: Any) -> str:
    """Which frame type a parameter annotation asks for: pandas (default), polars or arrow."""
    if annotation is None:
        return "pandas"
    text = (
        annotation
        if isinstance(annotation, str)
        else (f"{getattr(annotation, '__module__', '')}.{getattr(annotation, '__qualname__', '')}")
    )
    if "polars" in text or text.startswith("pl."):
        return "polars"
    if "pyarrow" in text or text.startswith("pa."):
        return "arrow"
    return "pandas"


def to_arrow(value: Any) -> pa.Table | pa.RecordBatchReader:
    """A returned frame as Arrow, checked; TypeError/ValueError saying what to fix."""
    import pyarrow as pa

    data = _convert(value)
    if not data.schema.names:
        raise ValueError("the returned frame has no columns; return at least one column")
    untyped = [f.name for f in data.schema if pa.types.is_null(f.type)]
    if untyped:
        raise ValueError(
            f"column(s) {', '.join(map(repr, untyped))} have no type (every value is null); "
            "give them a dtype, e.g. df[col].astype('string')"
        )
    return data


def _convert(value: Any) -> pa.Table | pa.RecordBatchReader:
    import pyarrow as pa

    if isinstance(value, (pa.Table, pa.RecordBatchReader)):
        return value
    if isinstance(value, pa.RecordBatch):
        return pa.Table.from_batches([value])
    module = type(value).__module__
    if module.startswith("pandas") and hasattr(value, "columns"):
        if getattr(value.columns, "nlevels", 1) > 1:
            example = ", ".join(repr(c) for c in list(value.columns)[:2])
            raise ValueError(
                f"the returned frame has MultiIndex columns ({example}, ...), which a table "
                "cannot hold; flatten them, e.g. df.columns = ['_'.join(map(str, c)) for c in "
                "df.columns]"
            )
        # a named index (e.g. from groupby) is data and becomes a column; a plain
        # RangeIndex is not
        return pa.Table.from_pandas(value, preserve_index=None)
    if module.startswith("polars") and hasattr(value, "to_arrow"):
        return value.to_arrow()
    raise TypeError(
        f"a source-table asset must return a DataFrame (pandas, polars or Arrow), "
        f"got {type(value).__module__}.{type(value).__qualname__}"
    )


def columns_of(value: Any) -> list[tuple[str, str]] | None:
    """(name, Arrow type) of a frame's columns, cheaply; None for anything else."""
    import pyarrow as pa

    try:
        if isinstance(value, (pa.Table, pa.RecordBatchReader, pa.RecordBatch)):
            schema = value.schema
        elif type(value).__module__.startswith("pandas") and hasattr(value, "columns"):
            schema = pa.Schema.from_pandas(value, preserve_index=None)
        elif type(value).__module__.startswith("polars") and hasattr(value, "to_arrow"):
            schema = value.head(0).to_arrow().schema
        else:
            return None
    except (pa.ArrowException, TypeError, ValueError):
        return None
    return [(f.name, str(f.type)) for f in schema]
