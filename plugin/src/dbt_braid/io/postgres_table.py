"""The ``table`` IO manager for PostgreSQL: COPY in and out, one transaction per write.

Rows travel as CSV written and parsed by Arrow's C++ CSV code, through psycopg2's
``copy_expert`` (dbt-postgres brings psycopg2 and opens the connection, so braid connects
exactly as the models do). PostgreSQL's DDL is transactional, so a write is atomic:

- when the table exists with the same columns and types, it is truncated and refilled in
  one transaction (views, grants and comments on it stay);
- otherwise the rows go into a new table, the old one is dropped (``cascade``, as dbt
  drops a table it rebuilds) and the new one renamed into place, again in one transaction.

If anything fails, or the process dies, nothing is committed and the old table stands.
The error reported is the one that failed the write: when the connection itself died (the
server restarted, an administrator terminated the backend), rolling back fails as well
("connection already closed"), and that follow-up must not be what the user reads.
"""

from __future__ import annotations

import functools
import io
from typing import TYPE_CHECKING, Any

from dbt_braid.core.assets import PythonAsset, Relation
from dbt_braid.core.markers import hookimpl
from dbt_braid.io import adapter_sql
from dbt_braid.io.base import IOEnv, StoredRef, not_built
from dbt_braid.io.frames import to_arrow, wants
from dbt_braid.io.generic_table import GenericTableIO, rollback_quietly

if TYPE_CHECKING:
    import pyarrow as pa

#: rows per COPY statement: bounds the CSV buffer held in memory at once
COPY_BATCH = 200_000


@functools.cache
def arrow_of_oid() -> dict[int, pa.DataType]:
    """PostgreSQL type OIDs read back as typed Arrow columns; everything else comes as text.

    A function, not a constant: pyarrow is imported when a table is read, not when braid
    starts.
    """
    import pyarrow as pa

    return {
        16: pa.bool_(),
        20: pa.int64(),
        21: pa.int16(),
        23: pa.int32(),
        700: pa.float32(),
        701: pa.float64(),
        1700: pa.float64(),  # numeric, as DuckDB hands decimals to pandas
        1082: pa.date32(),
        1083: pa.time64("us"),
        1114: pa.timestamp("us"),
        1184: pa.timestamp("us"),  # timestamptz, selected as UTC wall-clock time
        25: pa.string(),
        1042: pa.string(),
        1043: pa.string(),
    }


def pg_type(t: pa.DataType) -> str:
    """PostgreSQL column type for an Arrow type (after :func:`adapter_sql.plain_columns`)."""
    import pyarrow as pa

    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_int8(t) or pa.types.is_int16(t) or pa.types.is_uint8(t):
        return "smallint"
    if pa.types.is_int32(t) or pa.types.is_uint16(t):
        return "integer"
    if pa.types.is_int64(t) or pa.types.is_uint32(t):
        return "bigint"
    if pa.types.is_uint64(t):
        return "numeric(20, 0)"
    if pa.types.is_float16(t) or pa.types.is_float32(t):
        return "real"
    if pa.types.is_float64(t):
        return "double precision"
    if pa.types.is_decimal(t):
        return f"numeric({t.precision}, {t.scale})"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_timestamp(t):
        return "timestamp"
    if pa.types.is_time(t):
        return "time"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "text"
    raise TypeError(
        f"columns of Arrow type {t} cannot be written to PostgreSQL by braid; convert them "
        "to text, numbers, booleans, dates or timestamps first"
    )


class PostgresTableIO(GenericTableIO):
    """Reads and replaces PostgreSQL tables with COPY."""

    def load(self, ref: StoredRef, annotation: Any = None) -> Any:
        return self._load(ref, annotation)

    def load_window(self, ref: StoredRef, annotation: Any, column: str, low: Any,
                    high: Any) -> Any:
        """The rows of ``ref`` whose ``column`` lies in ``[low, high)`` (an input's window)."""
        from dbt_braid.io.window_frames import window_where

        where = window_where(adapter_sql.quote(self.adapter, column), low, high)
        return self._load(ref, annotation, where)

    def _load(self, ref: StoredRef, annotation: Any, where: str = "") -> Any:
        if ref.relation is None:
            raise ValueError(f"{ref.unique_id} has no table to read")
        import psycopg2

        source = adapter_sql.render(self.adapter, ref.relation, self.database)
        if where:
            source = f"(select * from {source} where {where}) as braid_rows"
        try:
            table = self._read(source)
        except psycopg2.errors.UndefinedTable:
            raise not_built(ref) from None
        kind = wants(annotation)
        if kind == "arrow":
            return table
        if kind == "polars":
            import polars as pl

            return pl.from_arrow(table)
        return table.to_pandas()

    def query_arrow(self, sql: str) -> Any:
        """Rows of ``sql`` as a typed Arrow table (types survive even with no rows)."""
        return self._read(f"({sql}) as braid_query")

    def _read(self, source: str) -> Any:
        """``select * from source`` through COPY, typed by the columns' PostgreSQL types."""
        with self._connection() as handle:
            handle.autocommit = False  # `set local` below needs a transaction (autocommit: true)
            cursor = handle.cursor()
            try:
                cursor.execute(f"select * from {source} limit 0")
                described = [(d[0], d[1]) for d in cursor.description or []]
                selected = ", ".join(_select_expr(self.adapter, n, oid) for n, oid in described)
                buffer = io.BytesIO()
                cursor.execute("set local datestyle to 'ISO, YMD'")
                cursor.execute("set local extra_float_digits to 3")
                cursor.copy_expert(
                    f"copy (select {selected} from {source}) to stdout with (format csv)", buffer
                )
            finally:
                rollback_quietly(handle)  # a read commits nothing; its own error is the one to see
        return _parse_csv(buffer.getvalue(), described)

    def store(self, asset: PythonAsset, value: Any) -> int | None:
        if asset.relation is None:
            raise ValueError(f"{asset.unique_id} is not a source table; it has no relation")
        data = to_arrow(value)
        schema = adapter_sql.plain_columns(data)
        columns = [(adapter_sql.quote(self.adapter, f.name), pg_type(f.type)) for f in schema]
        relation = asset.relation
        target = adapter_sql.render(self.adapter, relation, self.database)
        with self._connection() as handle:
            self._ensure_schema(handle, adapter_sql.schema_of(
                self.adapter, relation, self.database))
            handle.autocommit = False
            cursor = handle.cursor()
            try:
                if self._same_columns(cursor, relation, columns):
                    cursor.execute(f"truncate table {target}")
                    written = self._copy(cursor, target, columns, data, schema)
                else:
                    new = self._staging(relation)
                    cursor.execute(
                        f"create table {new} ({', '.join(f'{c} {t}' for c, t in columns)})")
                    written = self._copy(cursor, new, columns, data, schema)
                    cursor.execute(f"drop table if exists {target} cascade")
                    cursor.execute(f"alter table {new} rename to "
                                   f"{adapter_sql.quote(self.adapter, relation.identifier)}")
                handle.commit()
            except BaseException:
                rollback_quietly(handle)  # best effort: the cause of the failure is what propagates
                raise
        return written

    def replace_window(self, asset: PythonAsset, value: Any, column: str, window: Any) -> int:
        """Replace exactly the ``window`` of ``column``: the window's rows deleted and the new
        ones copied in, one transaction; the first write creates the table. Rows outside the
        window are refused before anything is written."""
        from dbt_braid.io.window_frames import window_rows

        if asset.relation is None:
            raise ValueError(f"{asset.unique_id} is not a source table; it has no relation")
        data, low, high = window_rows(value, column, window)
        schema = adapter_sql.plain_columns(data)
        columns = [(adapter_sql.quote(self.adapter, f.name), pg_type(f.type)) for f in schema]
        target = adapter_sql.render(self.adapter, asset.relation, self.database)
        name = adapter_sql.quote(self.adapter, column)
        with self._connection() as handle:
            self._ensure_schema(handle, adapter_sql.schema_of(
                self.adapter, asset.relation, self.database))
            handle.autocommit = False
            cursor = handle.cursor()
            try:
                cursor.execute(f"create table if not exists {target} "
                               f"({', '.join(f'{c} {t}' for c, t in columns)})")
                cursor.execute(f"delete from {target} where {name} >= %s and {name} < %s",
                               (low, high))
                written = self._copy(cursor, target, columns, data, schema)
                handle.commit()
            except BaseException:
                rollback_quietly(handle)
                raise
        return written

    def _same_columns(
        self, cursor: Any, relation: Relation, columns: list[tuple[str, str]]
    ) -> bool:
        """Whether ``relation`` is a table whose columns are exactly ``columns``, in order."""
        cursor.execute(
            "select a.attname, format_type(a.atttypid, a.atttypmod) from pg_attribute a "
            "join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname = %s and c.relname = %s and c.relkind in ('r', 'p') "
            "and a.attnum > 0 and not a.attisdropped order by a.attnum",
            (relation.schema, relation.identifier),
        )
        existing = [
            (adapter_sql.quote(self.adapter, name), kind) for name, kind in cursor.fetchall()
        ]
        wanted = [(name, _canonical(kind)) for name, kind in columns]
        return bool(existing) and existing == wanted

    @staticmethod
    def _copy(
        cursor: Any,
        target: str,
        columns: list[tuple[str, str]],
        data: pa.Table | pa.RecordBatchReader,
        schema: pa.Schema,
    ) -> int:
        import pyarrow.csv as pacsv

        statement = (
            f"copy {target} ({', '.join(c for c, _ in columns)}) from stdin with (format csv)"
        )
        options = pacsv.WriteOptions(include_header=False, quoting_style="needed")
        written = 0
        for batch in adapter_sql.batches(data, schema, COPY_BATCH):
            buffer = io.BytesIO()
            pacsv.write_csv(batch, buffer, write_options=options)
            buffer.seek(0)
            cursor.copy_expert(statement, buffer)
            written += batch.num_rows
        return written


def _canonical(kind: str) -> str:
    """Our DDL type names as ``format_type`` prints them."""
    return {"timestamp": "timestamp without time zone",
            "time": "time without time zone"}.get(kind, kind)


def _select_expr(adapter: Any, name: str, oid: int) -> str:
    column = adapter_sql.quote(adapter, name)
    if oid == 1184:
        return f"({column} at time zone 'UTC')"
    if oid in arrow_of_oid():
        return column
    return f"{column}::text"


def _parse_csv(data: bytes, described: list[tuple[str, int]]) -> pa.Table:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    names = [n for n, _ in described]
    types = {f"c{i}": arrow_of_oid().get(oid, pa.string()) for i, (_, oid) in enumerate(described)}
    if not data:
        return pa.table({n: pa.array([], type=types[f"c{i}"]) for i, n in enumerate(names)})
    table = pacsv.read_csv(
        io.BytesIO(data),
        read_options=pacsv.ReadOptions(column_names=list(types)),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types=types,
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
            true_values=["t"],
            false_values=["f"],
        ),
    )
    table = table.rename_columns(names)
    for i, (_, oid) in enumerate(described):
        if oid == 1184:  # zone back on: these are UTC instants
            table = table.set_column(i, names[i], table.column(i).cast(pa.timestamp("us", "UTC")))
    return table


def _factory(env: IOEnv) -> PostgresTableIO | None:
    if env.adapter_type != "postgres":
        return None
    return PostgresTableIO(env)


@hookimpl
def register_io_managers(register: Any) -> None:
    register("table", _factory, writes_table=True)
