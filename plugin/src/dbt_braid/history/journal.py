"""A run's history written as it happens, so a run leaves a trace from its first second.

The run's row goes in when the run starts (status ``running``), each node's row as the node
finishes (batched by a writer thread: one transaction per flush), and the run's row is
completed at the end. A run killed with ``kill -9`` keeps its ``running`` row and the rows
of what it finished; since runs of one target never overlap (execution.run_lock), a
``running`` row whose target is not being run now was abandoned: readers show it so, and the
next run records it so.

Writes go through the ``table`` IO manager's own connection (``transaction``), never
through dbt: a dbt invocation may be running on the main thread at the time. Each write is
one transaction, all of it or none. The tables are made (or given new columns) by the
package's ``ensure_history`` macro, once, before the run's first dbt invocation.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

from dbt_braid import console
from dbt_braid.core.results import NodeResult
from dbt_braid.dbtcore.project import DbtProject
from dbt_braid.history import store
from dbt_braid.history.records import NodeRows, attempts_of, sql_time
from dbt_braid.io.base import Queries, Transactional, supports

RUN_COLUMNS = ("run_id", "command", "selection", "target_name", "started_at", "completed_at",
               "status", "braid_version", "dbt_version", "retry_of", "schedule")
NODE_COLUMNS = ("run_id", "unique_id", "name", "kind", "status", "started_at", "completed_at",
                "rows_written", "message", "code_version", "input_versions", "attempt",
                "invocation", "metadata", "partition_key")
#: at most one write per this many seconds while nodes finish (rows wait at most this long;
#: a 700-model batch costs a few dozen transactions, not one per node)
FLUSH_EVERY = 0.5


def insert(table_sql: str, columns: Sequence[str], rows: Sequence[Mapping[str, Any]]
           ) -> tuple[str, list[tuple[Any, ...]]]:
    marks = ", ".join("?" for _ in columns)
    return (f"insert into {table_sql} ({', '.join(columns)}) values ({marks})",
            [tuple(row.get(c) for c in columns) for row in rows])


def tables_ready(project: DbtProject, warehouse: Any) -> bool:
    """Whether both history tables exist with every column this braid writes."""
    for table, columns in ((store.RUNS, RUN_COLUMNS), (store.NODE_RUNS, NODE_COLUMNS)):
        try:
            frame = warehouse.query(f"select * from {store.quoted(project, table)} where 1 = 0")
        except Exception:  # noqa: BLE001 - missing; ensure_history makes it
            return False
        if not set(columns) <= {str(c).lower() for c in frame.columns}:
            return False
    return True


class Journal:
    """The history of one run, written while it runs."""

    def __init__(self, project: DbtProject, warehouse: Any, run: dict[str, Any],
                 nodes: NodeRows) -> None:
        self.project = project
        self.warehouse = warehouse
        self.run = run
        self.nodes = nodes
        self.runs_sql = store.quoted(project, store.RUNS)
        self.nodes_sql = store.quoted(project, store.NODE_RUNS)
        self._pending: list[dict[str, Any]] = []
        self._written: set[tuple[str, int, str | None]] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._closing = False
        self._thread: threading.Thread | None = None
        self.failed: str | None = None

    @classmethod
    def start(cls, project: DbtProject, warehouse: Any, run: dict[str, Any],
              nodes: NodeRows) -> Journal | None:
        """Write the run's ``running`` row; None when history cannot be written this way."""
        if not supports(warehouse, Queries) or not supports(warehouse, Transactional):
            return None  # a third-party table IO manager: the whole run is recorded at its end
        if not tables_ready(project, warehouse):
            result = project.run_operation("braid.ensure_history", {})
            if not result.success:
                raise RuntimeError(" ".join(str(result.exception).split()))
        journal = cls(project, warehouse, run, nodes)
        target = run["target_name"]
        warehouse.transaction([
            # runs of one target never overlap, so one still "running" was killed
            (f"update {journal.runs_sql} set status = 'abandoned' "
             "where target_name = ? and status = 'running'", [(target,)]),
            insert(journal.runs_sql, RUN_COLUMNS, [run]),
        ])
        journal._thread = threading.Thread(target=journal._writer, name="braid-history",
                                           daemon=True)
        journal._thread.start()
        return journal

    def add(self, result: NodeResult) -> None:
        """Queue a finished node's rows (any thread); the writer flushes them shortly."""
        with self._lock:
            self._pending.extend(self.nodes.rows(result))
        self._wake.set()

    def _take(self) -> list[dict[str, Any]]:
        with self._lock:
            rows, self._pending = self._pending, []
        return rows

    def _flush(self, extra: Sequence[tuple[str, list[tuple[Any, ...]]]] = ()) -> None:
        rows = self._take()
        statements = [insert(self.nodes_sql, NODE_COLUMNS, rows)] if rows else []
        statements += extra
        if not statements:
            return
        try:
            self.warehouse.transaction(statements)
        except Exception:
            with self._lock:  # nothing of this write was kept: it goes with the next one
                self._pending[:0] = rows
            raise
        self._written.update(_key(r) for r in rows)

    def _writer(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            if self._closing:
                return
            try:
                self._flush()
            except Exception as exc:  # noqa: BLE001 - kept, retried at the end of the run
                if self.failed is None:
                    console.debug(f"braid: history write failed, will retry: {exc}")
                self.failed = str(exc)
            self._stop.wait(FLUSH_EVERY)  # the rows of what finishes meanwhile go together

    def finish(self, results: Sequence[NodeResult], status: str, completed_at: str) -> None:
        """The rows not written yet (skipped nodes among them) and the run's end, together."""
        self._closing = True
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
        done = sql_time(completed_at)
        with self._lock:
            queued = {_key(r) for r in self._pending}
        for result in results:
            for attempt in attempts_of(result):
                key = (attempt.unique_id, attempt.attempt, attempt.partition)
                if key not in self._written and key not in queued:
                    with self._lock:
                        self._pending.append(self.nodes.row(attempt, completed_at))
        self._flush([(f"update {self.runs_sql} set status = ?, completed_at = ? "
                      "where run_id = ?", [(status, done, self.run["run_id"])])])


def _key(row: Mapping[str, Any]) -> tuple[str, int, str | None]:
    """A node row's identity within its run: node, attempt, window."""
    return row["unique_id"], row["attempt"], row.get("partition_key")
