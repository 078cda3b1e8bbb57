"""What every SQL table IO manager needs from the target's dbt adapter.

A connection opened by the adapter's own ``ConnectionManager.open`` (so SSL, roles, search
paths, keepalives and retries are set up exactly as dbt sets them up for the models), the
adapter's identifier quoting, and the adapter's names for column types. Nothing here is
tied to one warehouse; :mod:`dbt_braid.io.generic_table` builds on it for any adapter and
:mod:`dbt_braid.io.postgres_table` adds PostgreSQL's COPY.
"""

from __future__ import annotations

import contextlib
import decimal
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from dbt_braid.core.assets import Relation

if TYPE_CHECKING:
    import pyarrow as pa


def adapter_class(adapter_type: str) -> Any:
    """The dbt adapter class for ``adapter_type`` (its plugin loaded if it was not yet)."""
    from dbt.adapters.factory import FACTORY

    FACTORY.load_plugin(adapter_type)
    return FACTORY.get_adapter_class_by_name(adapter_type)


@contextlib.contextmanager
def dbapi_connection(adapter_type: str, credentials: Any, name: str = "braid_io") -> Iterator[Any]:
    """A DB-API connection opened as dbt opens one for this target; closed on exit.

    Each call opens its own connection: Python assets run in parallel threads and a DB-API
    connection carries one transaction at a time.
    """
    from dbt.adapters.contracts.connection import Connection, Identifier

    manager = adapter_class(adapter_type).ConnectionManager
    connection = manager.open(
        Connection(type=Identifier(adapter_type), name=name, credentials=credentials))
    try:
        yield connection.handle
    except BaseException:
        # on a connection the server dropped, closing (the adapter rolls back first) fails
        # too: that second error must not take the place of the one that explains it
        with contextlib.suppress(Exception):
            manager.close(connection)
        raise
    manager.close(connection)


def quote(adapter_cls: Any, name: str) -> str:
    """``name`` quoted the adapter's way, embedded quote characters doubled.

    dbt's ``quote`` only wraps the name; a quote character inside it would end the
    identifier early, so it is doubled first (the SQL standard's escape, which every
    warehouse dbt supports honours for its own quote character).
    """
    closing = adapter_cls.quote("")[-1]
    return str(adapter_cls.quote(name.replace(closing, closing * 2)))


def render(adapter_cls: Any, relation: Relation, current_database: str | None = None) -> str:
    """``database.schema.identifier`` quoted part by part.

    The database is left out when it is the connection's own (``current_database``):
    PostgreSQL takes no database in ``create schema`` and none but its own anywhere, and
    every warehouse reads an unqualified schema in the connection's database.
    """
    parts = [relation.database, relation.schema, relation.identifier]
    if relation.database == current_database:
        parts = parts[1:]
    return ".".join(quote(adapter_cls, p) for p in parts if p)


def schema_of(adapter_cls: Any, relation: Relation, current_database: str | None = None) -> str:
    """The relation's schema, rendered as :func:`render` renders the relation."""
    parts = [relation.database, relation.schema]
    if relation.database == current_database:
        parts = parts[1:]
    return ".".join(quote(adapter_cls, p) for p in parts if p)


def column_type(adapter_cls: Any, arrow_type: pa.DataType) -> str:
    """The adapter's SQL type for an Arrow column type, asked through dbt's seed type hooks.

    dbt maps seed columns (agate types) to warehouse types with ``convert_*_type``; asking
    the same hooks keeps braid's tables typed as the adapter's seeds would be. Integers are
    ``bigint`` (the hooks' ``integer`` is 32-bit on most warehouses) and decimals keep their
    precision and scale.
    """
    import agate
    import pyarrow as pa

    def ask(hook: str, value: Any, kind: Any) -> str:
        table = agate.Table([[value]], ["c"], [kind])
        return str(getattr(adapter_cls, hook)(table, 0))

    t = arrow_type
    if pa.types.is_dictionary(t):
        t = t.value_type
    if pa.types.is_boolean(t):
        return ask("convert_boolean_type", True, agate.Boolean())
    if pa.types.is_integer(t):
        return "bigint"
    if pa.types.is_floating(t):
        return ask("convert_number_type", decimal.Decimal("0.5"), agate.Number())
    if pa.types.is_decimal(t):
        return f"numeric({t.precision}, {t.scale})"
    if pa.types.is_date(t):
        return ask("convert_date_type", None, agate.Date())
    if pa.types.is_timestamp(t):
        return ask("convert_datetime_type", None, agate.DateTime())
    if pa.types.is_time(t):
        return ask("convert_time_type", None, agate.TimeDelta())
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return ask("convert_text_type", "x", agate.Text())
    raise TypeError(
        f"columns of Arrow type {arrow_type} cannot be written as a table column; convert "
        "them to text, numbers, booleans, dates or timestamps first"
    )


def plain_columns(data: pa.Table | pa.RecordBatchReader) -> pa.Schema:
    """The schema a table is written with: dictionaries decoded, time zones made UTC.

    Every adapter's timestamp hook is the zone-less kind, so aware timestamps are stored as
    their UTC wall-clock time (what dbt's seeds and most warehouses do with them).
    """
    import pyarrow as pa

    fields = []
    for f in data.schema:
        t = f.type.value_type if pa.types.is_dictionary(f.type) else f.type
        if pa.types.is_timestamp(t) and t.tz is not None:
            t = pa.timestamp(t.unit)
        fields.append(pa.field(f.name, t))
    return pa.schema(fields)


def batches(
    data: pa.Table | pa.RecordBatchReader, schema: pa.Schema, rows: int
) -> Iterator[pa.RecordBatch]:
    """``data`` in batches of at most ``rows`` rows, cast to ``schema``."""
    import pyarrow as pa

    source = data.to_batches(max_chunksize=rows) if isinstance(data, pa.Table) else data
    for batch in source:
        if batch.schema != schema:
            batch = pa.RecordBatch.from_arrays(
                [_plain(col, f.type) for col, f in zip(batch.columns, schema, strict=True)],
                schema=schema,
            )
        for start in range(0, batch.num_rows, rows):
            yield batch.slice(start, rows)


def _plain(column: pa.Array, target: pa.DataType) -> pa.Array:
    import pyarrow as pa

    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    if pa.types.is_timestamp(column.type) and column.type.tz is not None:
        # the instants' UTC wall-clock time, zone dropped
        return column.cast(pa.timestamp(column.type.unit, tz="UTC")).cast(target)
    return column.cast(target) if column.type != target else column
