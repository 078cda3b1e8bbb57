"""Which errors are transient (retried), on the drivers' real exception classes."""

from __future__ import annotations


def test_transient_errors_are_told_from_others() -> None:
    """Connection failures (the DB-API's, dbt's, the OS's) are retried; other errors of
    loading or storing are not. Real exception classes of the drivers braid runs on."""
    import duckdb
    import psycopg2
    import psycopg2.errors
    from dbt.adapters.exceptions import FailedToConnectError
    from dbt_braid.execution.timeouts import is_transient

    assert is_transient(psycopg2.OperationalError("server closed the connection unexpectedly"))
    assert is_transient(psycopg2.errors.AdminShutdown("terminating connection"))
    assert is_transient(psycopg2.InterfaceError("connection already closed"))
    assert is_transient(FailedToConnectError("could not connect"))
    assert is_transient(ConnectionResetError(104, "Connection reset by peer"))
    assert is_transient(duckdb.HTTPException("HTTP 503"))
    wrapped = RuntimeError("storing failed")
    wrapped.__cause__ = psycopg2.OperationalError("SSL SYSCALL error: EOF detected")
    assert is_transient(wrapped)
    assert not is_transient(psycopg2.errors.UndefinedTable("relation does not exist"))
    assert not is_transient(duckdb.CatalogException("Table with name x does not exist"))
    assert not is_transient(TypeError("cannot convert"))
    assert not is_transient(LookupError("not built yet"))
