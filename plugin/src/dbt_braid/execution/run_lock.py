"""One run at a time per project and target: a second ``braid run`` is refused at once.

Two runs on one target collide deep inside dbt (DuckDB's file lock, PostgreSQL's
``__dbt_backup`` relations) after pages of errors, and history would interleave their rows.
So ``run``, ``build`` and ``retry`` take a lock before they touch the warehouse, and a run that
finds it held stops with one line naming the holder: its command, pid, host and start time.

The lock lives where both runs can see it and dies with its holder, so a run killed with
``kill -9`` leaves nothing to clean up; the next run simply takes it:

- PostgreSQL: a session-level advisory lock, held on a connection of its own for the whole
  run (the server drops it when the connection ends). The holder is told from the lock's
  ``pg_stat_activity`` row: its ``application_name`` carries command, pid and host, its
  ``backend_start`` the start time. Runs from different machines on one database see it.
- Everything else: an ``flock`` on ``target/braid/run-<target>.lock``, released by the
  kernel when the process ends, holding the holder as JSON. (A DuckDB file that another
  project's run holds is DuckDB's own lock, reported before anything runs.)
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import socket
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from dbt_braid.core.errors import BraidUserError

#: the first key of braid's PostgreSQL advisory locks ("brd" in ASCII), the second being
#: the project and target's hash, so braid's locks keep clear of other applications' keys
PG_LOCK_CLASS = 0x627264


@dataclass(frozen=True)
class Holder:
    """Who runs a target: enough for a person to find the process."""

    command: str
    pid: int
    host: str
    started_at: str
    run_id: str = ""

    def describe(self) -> str:
        return (f"`{self.command}` (pid {self.pid} on {self.host}, started "
                f"{self.started_at})")


def this_process(command: str, run_id: str) -> Holder:
    started = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    return Holder(command, os.getpid(), socket.gethostname(), started, run_id)


def lock_key(project_name: str, target_name: str) -> int:
    """A stable 31-bit key for the project and target (the same in every process)."""
    digest = hashlib.sha256(f"{project_name}\0{target_name}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def refused(what: str, holder: Holder | None) -> BraidUserError:
    who = holder.describe() if holder else "another braid process"
    return BraidUserError(
        f"{what} is being run by {who}; braid runs one run at a time per project and "
        "target: wait for it to finish, or stop it, and run again"
    )


class FileLock:
    """An exclusive ``flock`` on ``path``, with the holder written into the file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self, holder: Holder, what: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise refused(what, self.read_holder()) from None
        # ours now: a previous holder that died left its JSON behind; replace it
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(asdict(holder)).encode(), 0)
        self._fd = fd

    def read_holder(self) -> Holder | None:
        try:
            return Holder(**json.loads(self.path.read_text()))
        except (OSError, ValueError, TypeError):  # being written, or not braid's
            return None

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None


class PostgresLock:
    """A session-level advisory lock on a connection kept open for the run."""

    def __init__(self, credentials: Any, key: int) -> None:
        self.credentials = credentials
        self.key = key
        self._connection: Any = None
        self._stack = contextlib.ExitStack()

    def _connect(self, application_name: str) -> Any:
        """A connection opened as dbt opens one (SSL, role, keepalives), named after the
        holder so that a refused run can say who it is."""
        import dataclasses

        from dbt_braid.io import adapter_sql

        credentials = dataclasses.replace(self.credentials,
                                          application_name=application_name[:63])
        self._stack = contextlib.ExitStack()
        return self._stack.enter_context(
            adapter_sql.dbapi_connection("postgres", credentials, "braid_run_lock"))

    def acquire(self, holder: Holder, what: str) -> None:
        name = f"braid {holder.command.removeprefix('braid ')} pid {holder.pid} on {holder.host}"
        connection = self._connect(name)
        connection.autocommit = True
        cursor = connection.cursor()
        cursor.execute("select pg_try_advisory_lock(%s, %s)", (PG_LOCK_CLASS, self.key))
        row = cursor.fetchone()
        if not (row and row[0]):
            try:
                found = self.read_holder(cursor)
            finally:
                self._stack.close()
            raise refused(what, found)
        self._connection = connection

    def read_holder(self, cursor: Any) -> Holder | None:
        """The holder, from the session that holds the lock (None when it is not visible)."""
        cursor.execute(
            "select a.application_name, a.backend_start at time zone 'UTC' "
            "from pg_locks l join pg_stat_activity a on a.pid = l.pid "
            "where l.locktype = 'advisory' and l.granted and l.classid = %s "
            "and l.objid = %s and l.objsubid = 2",
            (PG_LOCK_CLASS, self.key),
        )
        row = cursor.fetchone()
        if not row or not row[0]:
            return None
        words = str(row[0]).split()
        # "braid <command> pid <pid> on <host>"
        if len(words) >= 6 and words[0] == "braid" and words[2] == "pid" and words[4] == "on":
            started = row[1].strftime("%Y-%m-%d %H:%M:%S UTC") if row[1] else "?"
            return Holder(f"braid {words[1]}", int(words[3]), words[5], started)
        return None

    def release(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):  # a connection that died took the lock along
                self._stack.close()
            self._connection = None


def lock_for(project: Any) -> FileLock | PostgresLock:
    """The lock that keeps runs of this project and target apart."""
    credentials = project.config.credentials
    target = str(project.config.target_name)
    key = lock_key(str(project.config.project_name), target)
    if credentials.type == "postgres":
        return PostgresLock(credentials, key)
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in target)
    return FileLock(Path(project.target_dir) / "braid" / f"run-{safe}.lock")


@contextlib.contextmanager
def one_run_at_a_time(project: Any, command: str, run_id: str) -> Iterator[Holder]:
    """Hold the project and target's run lock for the ``with`` block, or refuse (exit 2)."""
    lock = lock_for(project)
    holder = this_process(command, run_id)
    what = (f"target {project.config.target_name} of project "
            f"{project.config.project_name}")
    lock.acquire(holder, what)
    try:
        yield holder
    finally:
        lock.release()


def holder_of(project: Any) -> str | None:
    """Who holds the project and target's run lock now, as a refusal says it; None when
    nobody does (the lock is taken and let go at once to find out)."""
    lock = lock_for(project)
    try:
        lock.acquire(this_process("braid status", ""),
                     f"target {project.config.target_name} of project "
                     f"{project.config.project_name}")
    except BraidUserError as exc:
        return str(exc.problems[0]) if exc.problems else str(exc)
    lock.release()
    return None


def is_free(project: Any) -> bool:
    """Whether no run holds the project and target's lock now."""
    return holder_of(project) is None
