"""The ``table`` IO manager for any dbt adapter: plain DB-API through the adapter's connection.

It is the fallback behind the warehouse-specific managers (DuckDB's Arrow scan, PostgreSQL's
COPY): slower, because rows travel as bound parameters in batches, but it needs nothing
from the warehouse beyond SQL and a DB-API driver, which is what dbt's SQL adapters have.

A write loads the rows into a new table beside the target, then drops the old table and
renames the new one into place, and commits once. Where the warehouse's DDL is
transactional (PostgreSQL, DuckDB, Redshift) readers see the old table or the new one,
never a half-written one; elsewhere the old table is dropped only after every row of the
new one has landed.

When a write fails, the clean-up (rollback, dropping the half-loaded table, closing the
connection) is best effort and never replaces the error that made it necessary: when the
connection died mid-write, the rollback fails too ("connection already closed"), and that
second error would hide the first, the one that says what happened to the connection.
"""

from __future__ import annotations

import contextlib
import decimal
import sys
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from dbt_braid.core.assets import PythonAsset, Relation
from dbt_braid.core.markers import hookimpl
from dbt_braid.io import adapter_sql
from dbt_braid.io.base import IOEnv, StoredRef, is_missing_relation, not_built
from dbt_braid.io.frames import to_arrow, wants

if TYPE_CHECKING:
    import pandas as pd

#: rows bound per executemany() call
INSERT_BATCH = 2_000

#: DB-API paramstyle -> placeholder for the n-th parameter (0-based)
PLACEHOLDERS = {
    "qmark": lambda n: "?",
    "format": lambda n: "%s",
    "pyformat": lambda n: "%s",
    "numeric": lambda n: f":{n + 1}",
    "named": lambda n: f":p{n}",
}


def paramstyle(handle: Any, adapter_type: str) -> str:
    """The DB-API paramstyle of the driver behind ``handle``.

    dbt wraps some drivers' connections; the driver module is found from the handle's or its
    cursor's class (or the object they wrap), and declares ``paramstyle`` (PEP 249).
    """
    candidates = [handle, getattr(handle, "_conn", None), getattr(handle, "_handle", None)]
    try:
        cursor = handle.cursor()
        candidates += [cursor, getattr(cursor, "_cursor", None)]
    except Exception:  # noqa: BLE001 - only a hint
        pass
    for obj in candidates:
        if obj is None:
            continue
        root = type(obj).__module__.split(".")[0]
        style = getattr(sys.modules.get(root), "paramstyle", None)
        if isinstance(style, str) and style in PLACEHOLDERS:
            return style
    return "qmark" if adapter_type == "duckdb" else "format"


class GenericTableIO:
    """Reads and replaces tables through any dbt SQL adapter's DB-API connection."""

    def __init__(self, env: IOEnv) -> None:
        self.adapter_type = env.adapter_type
        self.credentials = env.credentials
        self.adapter = adapter_sql.adapter_class(env.adapter_type)
        #: the connection's own database, left out of rendered names (adapter_sql.render)
        self.database = getattr(env.credentials, "database", None)

    def _staging(self, relation: Relation) -> str:
        """A new table beside ``relation`` that a write fills before it is swapped in."""
        name = f"braid_new_{uuid.uuid4().hex[:12]}"
        return adapter_sql.render(
            self.adapter, Relation(relation.database, relation.schema, name), self.database)

    def _connection(self) -> Any:
        return adapter_sql.dbapi_connection(self.adapter_type, self.credentials)

    def transaction(self, statements: Sequence[tuple[str, Sequence[Sequence[Any]]]]) -> None:
        """Run ``(sql, parameter rows)`` pairs in one transaction: all of them or none.

        ``sql`` uses ``?`` placeholders (rewritten to the driver's paramstyle); a pair with
        no rows runs once without parameters.
        """
        with self._connection() as handle:
            cursor = handle.cursor()
            style = paramstyle(handle, self.adapter_type)
            place = PLACEHOLDERS[style]
            try:
                _begin(handle, cursor)
                for sql, rows in statements:
                    if not rows:
                        cursor.execute(sql)
                        continue
                    parts = sql.split("?")
                    sql = "".join(part + (place(i) if i < len(parts) - 1 else "")
                                  for i, part in enumerate(parts))
                    cursor.executemany(sql, [
                        {f"p{i}": v for i, v in enumerate(r)} if style == "named" else tuple(r)
                        for r in rows])
                _commit(handle, cursor)
            except BaseException:
                rollback_quietly(handle)
                raise

    def load(self, ref: StoredRef, annotation: Any = None) -> Any:
        return self._load(ref, annotation)

    def load_window(self, ref: StoredRef, annotation: Any, column: str, low: Any,
                    high: Any) -> Any:
        """The rows of ``ref`` whose ``column`` lies in ``[low, high)`` (an input's window)."""
        from dbt_braid.io.window_frames import window_where

        where = window_where(adapter_sql.quote(self.adapter, column), low, high)
        return self._load(ref, annotation, f" where {where}")

    def _load(self, ref: StoredRef, annotation: Any, where: str = "") -> Any:
        import pyarrow as pa

        if ref.relation is None:
            raise ValueError(f"{ref.unique_id} has no table to read")
        rendered = adapter_sql.render(self.adapter, ref.relation, self.database)
        try:
            frame = self.query(f"select * from {rendered}{where}")
        except Exception as exc:
            if is_missing_relation(exc):
                raise not_built(ref) from None
            raise
        kind = wants(annotation)
        if kind == "pandas":
            return frame
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if kind == "polars":
            import polars as pl

            return pl.from_arrow(table)
        return table

    def query(self, sql: str) -> pd.DataFrame:
        """Run ``sql`` and return its rows as pandas (decimals as floats, as DuckDB gives)."""
        import pandas as pd

        with self._connection() as handle:
            cursor = handle.cursor()
            try:
                cursor.execute(sql)
                names = [d[0] for d in cursor.description or []]
                rows = cursor.fetchall() if names else []
            finally:
                rollback_quietly(handle)  # ends the read's transaction; never hides its error
        frame = pd.DataFrame.from_records(rows, columns=names)
        for name in names:
            column = frame[name]
            if column.dtype == object and any(isinstance(v, decimal.Decimal) for v in column):
                frame[name] = pd.to_numeric(column, errors="coerce").astype("float64")
        return frame

    def store(self, asset: PythonAsset, value: Any) -> int | None:
        if asset.relation is None:
            raise ValueError(f"{asset.unique_id} is not a source table; it has no relation")
        data = to_arrow(value)
        columns_of = adapter_sql.plain_columns(data)
        columns = [
            (adapter_sql.quote(self.adapter, f.name), adapter_sql.column_type(self.adapter, f.type))
            for f in columns_of
        ]
        relation = asset.relation
        target = adapter_sql.render(self.adapter, relation, self.database)
        new = self._staging(relation)
        with self._connection() as handle:
            schema = adapter_sql.schema_of(self.adapter, relation, self.database)
            self._ensure_schema(handle, schema)
            style = PLACEHOLDERS[paramstyle(handle, self.adapter_type)]
            insert = (
                f"insert into {new} ({', '.join(c for c, _ in columns)}) values "
                f"({', '.join(style(i) for i in range(len(columns)))})"
            )
            cursor = handle.cursor()
            written = 0
            try:
                _begin(handle, cursor)
                cursor.execute(
                    f"create table {new} ({', '.join(f'{c} {t}' for c, t in columns)})"
                )
                for batch in adapter_sql.batches(data, columns_of, INSERT_BATCH):
                    rows = list(zip(*(col.to_pylist() for col in batch.columns), strict=True))
                    if rows:
                        cursor.executemany(insert, rows)
                    written += batch.num_rows
                cursor.execute(f"drop table if exists {target}")
                final_name = adapter_sql.quote(self.adapter, relation.identifier)
                cursor.execute(f"alter table {new} rename to {final_name}")
                _commit(handle, cursor)
            except BaseException:
                # nothing is committed; the clean-up is best effort, the error stands
                rollback_quietly(handle)
                self._drop_quietly(handle, new)
                raise
        return written

    def replace_window(self, asset: PythonAsset, value: Any, column: str, window: Any) -> int:
        """Replace exactly the ``window`` of ``column``: the window's rows deleted and the new
        ones inserted, in one transaction (where the warehouse's DDL is transactional, the
        first write's ``create table`` is part of it). Rows outside the window are refused
        before anything is written."""
        from dbt_braid.io.window_frames import window_rows

        if asset.relation is None:
            raise ValueError(f"{asset.unique_id} is not a source table; it has no relation")
        data, low, high = window_rows(value, column, window)
        columns_of = adapter_sql.plain_columns(data)
        columns = [
            (adapter_sql.quote(self.adapter, f.name), adapter_sql.column_type(self.adapter, f.type))
            for f in columns_of
        ]
        target = adapter_sql.render(self.adapter, asset.relation, self.database)
        name = adapter_sql.quote(self.adapter, column)
        with self._connection() as handle:
            self._ensure_schema(handle, adapter_sql.schema_of(
                self.adapter, asset.relation, self.database))
            style = paramstyle(handle, self.adapter_type)
            place = PLACEHOLDERS[style]
            insert = (f"insert into {target} ({', '.join(c for c, _ in columns)}) values "
                      f"({', '.join(place(i) for i in range(len(columns)))})")
            cursor = handle.cursor()
            written = 0
            try:
                _begin(handle, cursor)
                cursor.execute(f"create table if not exists {target} "
                               f"({', '.join(f'{c} {t}' for c, t in columns)})")
                bounds = {"p0": low, "p1": high} if style == "named" else (low, high)
                cursor.execute(f"delete from {target} where {name} >= {place(0)} and "
                               f"{name} < {place(1)}", bounds)
                for batch in adapter_sql.batches(data, columns_of, INSERT_BATCH):
                    rows = list(zip(*(col.to_pylist() for col in batch.columns), strict=True))
                    if rows:
                        cursor.executemany(insert, rows)
                    written += batch.num_rows
                _commit(handle, cursor)
            except BaseException:
                rollback_quietly(handle)
                raise
        return written

    @staticmethod
    def _ensure_schema(handle: Any, schema: str) -> None:
        """Create the schema in its own transaction (a concurrent creator may win the race).

        A failure is passed over (the schema exists now, or the write's ``create table``
        says why it cannot), except when it cost the connection: then it is the cause, and
        the next statement would only report "connection already closed".
        """
        cursor = handle.cursor()
        try:
            _begin(handle, cursor)
            cursor.execute(f"create schema if not exists {schema}")
            _commit(handle, cursor)
        except Exception:
            rollback_quietly(handle)
            if _closed(handle):
                raise

    @staticmethod
    def _drop_quietly(handle: Any, relation: str) -> None:
        """Remove a half-loaded table where the DDL was not rolled back with the transaction.

        It runs while a failed write's error propagates, so it raises nothing of its own; on
        a connection that is gone there is nothing to drop from (the server rolled back).
        """
        if _closed(handle):
            return
        try:
            cursor = handle.cursor()
            _begin(handle, cursor)
            cursor.execute(f"drop table if exists {relation}")
            _commit(handle, cursor)
        except Exception:  # noqa: BLE001 - the write's own error is the one to report
            rollback_quietly(handle)


def _begin(handle: Any, cursor: Any) -> None:
    """Start a transaction.

    PEP 249 connections open one implicitly unless autocommit is on; a driver without that
    notion (DuckDB's connection, as dbt-duckdb wraps it) starts one on request.
    """
    if hasattr(handle, "autocommit"):
        if handle.autocommit is True:
            handle.autocommit = False
    elif hasattr(cursor, "begin"):
        cursor.begin()


def _commit(handle: Any, cursor: Any) -> None:
    (handle.commit if hasattr(handle, "commit") else cursor.commit)()


def rollback_quietly(handle: Any) -> None:
    """Roll back, best effort: it runs on failure paths, whose error is the one to report.

    It fails when no transaction was open, and on a connection the server dropped
    (psycopg2: "connection already closed"); either way the server keeps nothing
    uncommitted, so there is nothing left to undo.
    """
    with contextlib.suppress(Exception):
        handle.rollback()


def _closed(handle: Any) -> bool:
    """Whether the driver knows its connection is gone (PEP 249 leaves this out; psycopg2's
    ``closed`` is non-zero once the server dropped it). False when the driver cannot say."""
    closed = getattr(handle, "closed", None)
    return not callable(closed) and bool(closed)


def _factory(env: IOEnv) -> GenericTableIO | None:
    try:
        return GenericTableIO(env)
    except Exception:  # noqa: BLE001 - not a SQL adapter dbt can load here
        return None


@hookimpl
def register_io_managers(register: Any) -> None:
    register("table", _factory, writes_table=True)
