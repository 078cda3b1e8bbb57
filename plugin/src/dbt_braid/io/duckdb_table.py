"""The ``table`` IO manager for DuckDB: Arrow in, Arrow out, one transaction per write.

It opens the same database file dbt-duckdb uses. DuckDB shares one database instance per
file within a process, so this connection and dbt's may be open at once; each call takes its
own cursor, which makes concurrent Python assets safe. A write is a single
``CREATE OR REPLACE TABLE ... AS SELECT`` from the Arrow data inside a transaction: if the
data fails half-way (a stream that raises) or the process is killed, the old table stays.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Sequence
from typing import Any

import duckdb

from dbt_braid.core.assets import PythonAsset, Relation
from dbt_braid.core.markers import hookimpl
from dbt_braid.io import adapter_sql
from dbt_braid.io.base import IOEnv, StoredRef, not_built
from dbt_braid.io.frames import to_arrow, wants


def qualified(relation: Relation) -> str:
    """The relation quoted by dbt-duckdb's adapter (embedded quotes doubled)."""
    return adapter_sql.render(adapter_sql.adapter_class("duckdb"), relation)


class DuckDBTableIO:
    """Reads and replaces tables in the target's DuckDB database."""

    def __init__(self, credentials: Any) -> None:
        self.credentials = credentials
        self.path = getattr(credentials, "path", ":memory:")
        self._lock = threading.Lock()
        self._con: duckdb.DuckDBPyConnection | None = None

    def check(self) -> None:
        """Fail before anything runs when the target cannot hold tables between invocations."""
        if self.path == ":memory:":
            raise ValueError(
                "the DuckDB target uses path ':memory:', which each dbt invocation opens anew; "
                "Python assets need a database file: set path: in profiles.yml"
            )

    def check_available(self) -> None:
        """Fail before anything runs when another process holds the database file: DuckDB
        lets one process write it, and the run would otherwise fail in its first dbt
        invocation with pages of dbt's errors."""
        if self.path == ":memory:":
            return
        try:
            self._cursor().close()
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            pid = re.search(r"\(PID (\d+)\)", str(exc))
            holder = f" (PID {pid[1]})" if pid else ""
            raise ValueError(
                f"the DuckDB file {self.path.split('?', 1)[0]} is in use by another "
                f"process{holder}; wait for it to finish, or stop it, and run again"
            ) from None

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        # dbt-duckdb's own set-up (extensions, secrets, attach, settings), so braid sees the
        # same databases and settings as the models do
        from dbt.adapters.duckdb.environments import Environment

        with self._lock:
            if self._con is None:
                self.check()
                self._con = Environment.initialize_db(self.credentials)
            cursor = self._con.cursor()
        configured = Environment.initialize_cursor(self.credentials, cursor)
        return configured if isinstance(configured, duckdb.DuckDBPyConnection) else cursor

    def load(self, ref: StoredRef, annotation: Any = None) -> Any:
        return self._select(ref, annotation)

    def load_window(self, ref: StoredRef, annotation: Any, column: str, low: Any,
                    high: Any) -> Any:
        """The rows of ``ref`` whose ``column`` lies in ``[low, high)`` (an input's window)."""
        from dbt_braid.io.window_frames import window_where

        name = adapter_sql.quote(adapter_sql.adapter_class("duckdb"), column)
        return self._select(ref, annotation, f" where {window_where(name, low, high)}")

    def _select(self, ref: StoredRef, annotation: Any, where: str = "") -> Any:
        if ref.relation is None:
            raise ValueError(f"{ref.unique_id} has no table to read")
        cur = self._cursor()
        try:
            try:
                result = cur.sql(f"select * from {qualified(ref.relation)}{where}")
            except duckdb.CatalogException:
                raise not_built(ref) from None
            kind = wants(annotation)
            if kind == "polars":
                return result.pl()
            if kind == "arrow":
                # a Table (DuckDB >= 1.4 names it to_arrow_table; .arrow() became a reader)
                to_table = getattr(result, "to_arrow_table", None) or result.fetch_arrow_table
                return to_table()
            return result.df()
        finally:
            cur.close()

    def store(self, asset: PythonAsset, value: Any) -> int | None:
        if asset.relation is None:
            raise ValueError(f"{asset.unique_id} is not a source table; it has no relation")
        data = to_arrow(value)
        relation = asset.relation
        target = qualified(relation)
        schema = adapter_sql.schema_of(adapter_sql.adapter_class("duckdb"), relation)
        cur = self._cursor()
        try:
            self._ensure_schema(cur, schema)
            cur.execute("begin transaction")
            try:
                cur.register("__braid_new_rows", data)
                cur.execute(f"create or replace table {target} as select * from __braid_new_rows")
                cur.unregister("__braid_new_rows")
                row = cur.execute(f"select count(*) from {target}").fetchone()
                cur.execute("commit")
            except BaseException:
                cur.execute("rollback")
                raise
            return int(row[0]) if row else None
        finally:
            cur.close()

    def replace_window(self, asset: PythonAsset, value: Any, column: str, window: Any) -> int:
        """Replace exactly the ``window`` of ``column`` with the returned rows, in one
        transaction (the window's old rows deleted, the new ones inserted); the first write
        creates the table. Rows outside the window are refused before anything is written."""
        from dbt_braid.io.window_frames import window_rows

        if asset.relation is None:
            raise ValueError(f"{asset.unique_id} is not a source table; it has no relation")
        data, low, high = window_rows(value, column, window)
        target = qualified(asset.relation)
        name = adapter_sql.quote(adapter_sql.adapter_class("duckdb"), column)
        cur = self._cursor()
        try:
            self._ensure_schema(cur, adapter_sql.schema_of(
                adapter_sql.adapter_class("duckdb"), asset.relation))
            cur.execute("begin transaction")
            try:
                cur.register("__braid_window_rows", data)
                cur.execute(f"create table if not exists {target} as "
                            "select * from __braid_window_rows limit 0")
                cur.execute(f"delete from {target} where {name} >= ? and {name} < ?",
                            [low, high])
                cur.execute(f"insert into {target} by name select * from __braid_window_rows")
                cur.unregister("__braid_window_rows")
                cur.execute("commit")
            except BaseException:
                with contextlib.suppress(duckdb.Error):
                    cur.execute("rollback")
                raise
            return int(data.num_rows)
        finally:
            cur.close()

    @staticmethod
    def _ensure_schema(cur: duckdb.DuckDBPyConnection, schema: str) -> None:
        """Create the schema in its own transaction, before the write.

        Two writers creating the same schema at once conflict in DuckDB's catalog (optimistic
        concurrency); the loser retries and then finds it there.
        """
        for attempt in range(5):
            try:
                cur.execute(f"create schema if not exists {schema}")
                return
            except duckdb.TransactionException:
                if attempt == 4:
                    raise
                time.sleep(0.05 * (attempt + 1))

    def query(self, sql: str) -> Any:
        cur = self._cursor()
        try:
            relation = cur.sql(sql)
            return relation.df() if relation is not None else None
        finally:
            cur.close()

    def transaction(self, statements: Sequence[tuple[str, Sequence[Sequence[Any]]]]) -> None:
        """Run ``(sql, parameter rows)`` pairs in one transaction: all of them or none.

        ``sql`` uses ``?`` placeholders; a pair with no rows runs once without parameters.
        """
        cur = self._cursor()
        try:
            cur.execute("begin transaction")
            try:
                for sql, rows in statements:
                    if rows:
                        cur.executemany(sql, [list(r) for r in rows])
                    else:
                        cur.execute(sql)
                cur.execute("commit")
            except BaseException:
                with contextlib.suppress(duckdb.Error):  # keep the error that caused it
                    cur.execute("rollback")
                raise
        finally:
            cur.close()

    def query_arrow(self, sql: str) -> Any:
        """Rows of ``sql`` as an Arrow table (types survive even with no rows)."""
        cur = self._cursor()
        try:
            result = cur.sql(sql)
            to_table = getattr(result, "to_arrow_table", None) or result.fetch_arrow_table
            return to_table()
        finally:
            cur.close()

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None


def _factory(env: IOEnv) -> DuckDBTableIO | None:
    if env.adapter_type != "duckdb":
        return None
    return DuckDBTableIO(env.credentials)


@hookimpl
def register_io_managers(register: Any) -> None:
    register("table", _factory, writes_table=True)
