"""One braid run on the console, as one dbt run reads.

dbt's header once; one ``k of N`` numbering over dbt nodes and Python assets (dbt's nodes
take their k from :meth:`RunStream.next_index` through :mod:`dbt_braid.dbtcore.patches`);
START / OK / ERROR / SKIP lines for Python assets in the shape of dbt's, fired as dbt's own
node events (:mod:`dbt_braid.dbtcore.node_events`: JSON logs carry them as dbt's
``LogStartLine``/``LogModelResult`` with a ``node_info``); a SKIP line for each dbt node braid
did not hand to dbt; a "still running" line for a long Python asset now and then; and one
end-of-run summary in dbt's words over both kinds (:mod:`dbt_braid.dbtcore.events`).

A partitioned asset is one asset on the console however many windows it runs: its START
line, a "still running" line at most every :data:`STILL_RUNNING_AFTER` seconds saying how
many of its windows are done, a line for each window that failed, and its result line.
Each window's own START and OK lines are debug lines (logs/dbt.log, ``--debug``).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dbt_braid.console.lines import debug, event, say
from dbt_braid.dbtcore import node_events
from dbt_braid.dbtcore.patches import StreamState

if TYPE_CHECKING:
    from dbt_braid.core.assets import PythonAsset
    from dbt_braid.core.results import NodeResult
    from dbt_braid.core.windows import Window

#: seconds a Python asset runs before (and between) its "still running" lines (a
#: partitioned asset's say how many of its windows are done)
STILL_RUNNING_AFTER = float(os.environ.get("BRAID_STILL_RUNNING_AFTER", "30"))


@dataclass
class _Running:
    index: int
    name: str
    started: float
    noticed: float
    #: node_info's node_started_at
    started_at: str | None = None
    #: a partitioned asset's windows: how many this run computes, how many ended, failed
    windows: int = 0
    ended: int = 0
    failed: int = 0

    def progress(self, seconds: float) -> str:
        line = f"python asset {self.name} still running ({_minutes(seconds)})"
        if self.windows:
            line += f": {self.ended} of {self.windows} windows done"
            if self.failed:
                line += f", {self.failed} failed"
        return line


class RunStream:
    """The console of one run (thread-safe: Python assets start and end on many threads)."""

    def __init__(self, total: int, assets: Mapping[str, PythonAsset], *,
                 stopping: Callable[[], bool] = lambda: False,
                 still_running_after: float = STILL_RUNNING_AFTER,
                 relation_names: Mapping[str, str] | None = None) -> None:
        self.total = total
        #: unique_id -> asset, for the node_info of its lines
        self.assets = assets
        #: unique_id -> the relation as dbt names it (quoted by the adapter), where known
        self.relation_names = dict(relation_names or {})
        self.still_running_after = still_running_after
        self.stream_state = StreamState(self.next_index, total, stopping)
        self._count = 0
        self._lock = threading.Lock()
        self._running: dict[str, _Running] = {}
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def next_index(self) -> int:
        with self._lock:
            self._count += 1
            return self._count

    # ----- the run's first lines -----
    def header(self, project: Any, n_python: int, threads: int) -> None:
        from dbt_braid.dbtcore.events import fire_header

        fire_header(project.manifest, project.config.credentials.type, threads,
                    project.config.target_name, n_python, self.total,
                    getattr(project, "parse_warnings", ()))

    # ----- Python assets -----
    def python_started(self, uid: str, name: str) -> None:
        index = self.next_index()
        now = time.monotonic()
        running = _Running(index, name, now, now, started_at=node_events.now())
        with self._lock:
            self._running[uid] = running
            if self._ticker is None:
                self._ticker = threading.Thread(target=self._tick, name="braid-still-running",
                                                daemon=True)
                self._ticker.start()
        asset = self.assets[uid]
        info = self._info(asset, "started", running.started_at)
        event(node_events.start_event(asset, index, self.total, info))

    def python_finished(self, result: NodeResult) -> None:
        with self._lock:
            running = self._running.pop(result.unique_id, None)
        index = running.index if running else None
        took = result.execution_time
        asset = self.assets[result.unique_id]
        info = self._info(asset, result.status, running.started_at if running else None,
                          node_events.now())
        # as before the events: a failure's line is an error line (stderr before dbt's
        # loggers, kept with --quiet)
        event(node_events.result_event(asset, result.status, result.message, index,
                                       self.total, took, info),
              err=result.status not in ("success", "no-op"))

    def _info(self, asset: PythonAsset, status: str, started: str | None,
              finished: str | None = None) -> dict[str, Any]:
        return node_events.node_info(asset, status, started, finished,
                                     self.relation_names.get(asset.unique_id))

    def window_started(self, asset: PythonAsset, window: Window, index: int, total: int
                       ) -> None:
        """A partitioned asset's window starting, worded as dbt words a microbatch batch: a
        debug line (the console shows the asset, its progress and its failed windows)."""
        with self._lock:
            running = self._running.get(asset.unique_id)
            if running is not None:
                running.windows = total
        debug("Batch " + _line(f"START batch {window.key} of python asset {asset.name}",
                               "RUN", index, total))

    def window_finished(self, asset: PythonAsset, result: NodeResult, index: int, total: int
                        ) -> None:
        from dbt_common.ui import green, red

        ok = result.status == "success"
        with self._lock:
            running = self._running.get(asset.unique_id)
            if running is not None:
                running.ended += 1
                running.failed += 0 if ok else 1
            first_failure = running is None or running.failed == 1
        what = f"batch {result.partition} of python asset {asset.name}"
        took = result.execution_time
        if ok:
            debug("Batch " + _line(f"OK created {what}", green("OK"), index, total, took))
            return
        say("Batch " + _line(f"ERROR creating {what}", red("ERROR"), index, total, took),
            err=True)
        # the other windows go on, so each failed window is named here with its error (dbt's
        # summary lists a partial success without its batches' errors): the first one's
        # traceback, the others' in one line (their tracebacks in dbt.log, with --debug)
        told = (result.traceback or result.message or "").rstrip().splitlines()
        if first_failure:
            for line in told:
                say(f"  {line}", err=True)
            return
        say(f"  {' '.join((result.message or 'failed').split())}", err=True)
        for line in told:
            debug(f"  {line}")

    def _tick(self) -> None:
        step = max(0.05, min(1.0, self.still_running_after / 4))
        while not self._stop.wait(step):
            now = time.monotonic()
            due = []
            with self._lock:
                for item in self._running.values():
                    if now - item.noticed >= self.still_running_after:
                        item.noticed = now
                        due.append(item.progress(now - item.started))
            for line in due:
                say(line)

    # ----- skipped nodes -----
    def skipped(self, result: NodeResult, node: Any) -> None:
        """A node braid did not run: a Python asset, or a dbt node it did not hand to dbt
        (``node`` is then the manifest's node)."""
        with self._lock:  # an asset that started and was then stopped keeps its k
            running = self._running.pop(result.unique_id, None)
        index = running.index if running else self.next_index()
        if result.resource_type == "python":
            asset = self.assets[result.unique_id]
            info = self._info(asset, "skipped", running.started_at if running else None)
            event(node_events.skip_event(asset, index, self.total, info))
        elif node is not None:
            from dbt_braid.dbtcore.events import fire_skip

            fire_skip(node, index, self.total)
        if result.message:
            debug(f"{result.unique_id}: {result.message}")

    # ----- the run's last lines -----
    def finish(
        self,
        results: Iterable[NodeResult],
        dbt_batches: Iterable[Any],
        manifest: Any,
        assets: Mapping[str, PythonAsset],
        elapsed: float,
        interrupted: bool,
        end_failure: BaseException | None = None,
    ) -> None:
        """dbt's end-of-run summary over the whole run: dbt's own results of every batch
        (project hooks included, as dbt counts them), the Python assets' and the dbt nodes
        braid skipped; with ``end_failure`` (on-run-end failed), in dbt's order for it."""
        from dbt_braid.dbtcore import events

        self._stop.set()
        reported = [r for batch in dbt_batches for r in batch.results]
        by_dbt = {r.node.unique_id for r in reported}
        ours: list[events.Shown] = []
        for r in results:
            if r.resource_type == "python":
                asset = assets[r.unique_id]
                node = events.PythonNode(r.unique_id, r.name, asset.module_file)
                # a skip's reason is the upstream's failure, listed already (dbt's way)
                message = None if r.status == "skipped" else (r.traceback or r.message or ""
                                                                 ).rstrip() or None
                ours.append(events.shown(node, r.status, message))
            elif r.unique_id not in by_dbt and r.unique_id in manifest.nodes:
                ours.append(events.shown(manifest.nodes[r.unique_id], r.status, None))
        events.fire_summary(reported, ours, elapsed, interrupted,
                            self.stream_state.end_messages, end_failure)


def _line(message: str, status: str, index: int | None, total: int,
          took: float | None = None) -> str:
    from dbt_common.events.format import format_fancy_output_line

    return format_fancy_output_line(msg=message, status=status, index=index, total=total,
                                    execution_time=took)


def _minutes(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60}m {whole % 60:02d}s" if whole >= 60 else f"{whole}s"
