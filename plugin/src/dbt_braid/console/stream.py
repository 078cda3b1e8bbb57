"""One braid run on the console, as one dbt run reads.

dbt's header once; one ``k of N`` numbering over dbt nodes and Python assets (dbt's nodes
take their k from :meth:`RunStream.next_index` through :mod:`dbt_braid.dbtcore.patches`);
START / OK / ERROR / SKIP lines for Python assets in the shape of dbt's; a SKIP line for each
dbt node braid did not hand to dbt; a "still running" line for a long Python asset now and
then; and one end-of-run summary in dbt's words over both kinds
(:mod:`dbt_braid.dbtcore.events`).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dbt_braid.console.lines import debug, say
from dbt_braid.dbtcore.patches import StreamState

if TYPE_CHECKING:
    from dbt_braid.assets import PythonAsset
    from dbt_braid.execution.results import NodeResult
    from dbt_braid.partitions.windows import Window

#: seconds a Python asset runs before (and between) its "still running" lines
STILL_RUNNING_AFTER = float(os.environ.get("BRAID_STILL_RUNNING_AFTER", "30"))


@dataclass
class _Running:
    index: int
    name: str
    started: float
    noticed: float


class RunStream:
    """The console of one run (thread-safe: Python assets start and end on many threads)."""

    def __init__(self, total: int, *, stopping: Callable[[], bool] = lambda: False,
                 still_running_after: float = STILL_RUNNING_AFTER) -> None:
        self.total = total
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
                    project.config.target_name, n_python, self.total)

    # ----- Python assets -----
    def python_started(self, uid: str, name: str) -> None:
        index = self.next_index()
        now = time.monotonic()
        with self._lock:
            self._running[uid] = _Running(index, name, now, now)
            if self._ticker is None:
                self._ticker = threading.Thread(target=self._tick, name="braid-still-running",
                                                daemon=True)
                self._ticker.start()
        say(_line(f"START python asset {name}", "RUN", index, self.total))

    def python_finished(self, result: NodeResult) -> None:
        from dbt_common.ui import green, red, yellow

        with self._lock:
            running = self._running.pop(result.unique_id, None)
        index = running.index if running else None
        name = f"python asset {result.name}"
        took = result.execution_time
        if result.status == "success":
            say(_line(f"OK {name}", green(result.message or "OK"), index, self.total, took))
        elif result.status == "partial success":
            say(_line(f"PARTIAL SUCCESS {name}", yellow("PARTIAL SUCCESS"), index, self.total,
                      took), err=True)
        elif result.status == "no-op":
            say(_line(f"NO-OP {name}", yellow(result.message or "NO-OP"), index, self.total))
        else:
            say(_line(f"ERROR {name}", red("ERROR"), index, self.total, took), err=True)

    def window_started(self, asset: PythonAsset, window: Window, index: int, total: int
                       ) -> None:
        """A partitioned asset's window starting, worded as dbt words a microbatch batch."""
        say("Batch " + _line(f"START batch {window.key} of python asset {asset.name}", "RUN",
                             index, total))

    def window_finished(self, asset: PythonAsset, result: NodeResult, index: int, total: int
                        ) -> None:
        from dbt_common.ui import green, red

        what = f"batch {result.partition} of python asset {asset.name}"
        took = result.execution_time
        if result.status == "success":
            say("Batch " + _line(f"OK created {what}", green("OK"), index, total, took))
            return
        say("Batch " + _line(f"ERROR creating {what}", red("ERROR"), index, total, took),
            err=True)
        # the other windows go on, so the error is told here (dbt's summary at the end
        # lists a partial success without its batches' errors)
        for line in (result.traceback or result.message or "").rstrip().splitlines():
            say(f"  {line}", err=True)

    def _tick(self) -> None:
        step = max(0.05, min(1.0, self.still_running_after / 4))
        while not self._stop.wait(step):
            now = time.monotonic()
            due = []
            with self._lock:
                for item in self._running.values():
                    if now - item.noticed >= self.still_running_after:
                        item.noticed = now
                        due.append((item.name, now - item.started))
            for name, seconds in due:
                say(f"python asset {name} still running ({_minutes(seconds)})")

    # ----- skipped nodes -----
    def skipped(self, result: NodeResult, node: Any) -> None:
        """A node braid did not run: a Python asset, or a dbt node it did not hand to dbt
        (``node`` is then the manifest's node)."""
        from dbt_common.ui import yellow

        with self._lock:  # an asset that started and was then stopped keeps its k
            running = self._running.pop(result.unique_id, None)
        index = running.index if running else self.next_index()
        if result.resource_type == "python":
            say(_line(f"SKIP python asset {result.name}", yellow("SKIP"), index, self.total))
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
    ) -> None:
        """dbt's end-of-run summary over the whole run: dbt's own results of every batch
        (project hooks included, as dbt counts them), the Python assets' and the dbt nodes
        braid skipped."""
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
                            self.stream_state.end_messages)


def _line(message: str, status: str, index: int | None, total: int,
          took: float | None = None) -> str:
    from dbt_common.events.format import format_fancy_output_line

    return format_fancy_output_line(msg=message, status=status, index=index, total=total,
                                    execution_time=took)


def _minutes(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60}m {whole % 60:02d}s" if whole >= 60 else f"{whole}s"
