"""braid's own lines on the terminal, in the shape of dbt's (``HH:MM:SS  message``)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dbt_braid.execution.results import NodeResult

_lock = threading.Lock()


def say(message: str = "", err: bool = False) -> None:
    stamp = datetime.now().strftime("%H:%M:%S")
    stream = sys.stderr if err else sys.stdout
    text = "".join(f"{stamp}  {line}\n" if line else "\n" for line in message.splitlines() or [""])
    with _lock:
        # one write per message: dbt logs from other threads between our lines
        stream.write(text)
        stream.flush()


def dots(left: str, right: str, width: int = 80) -> str:
    fill = max(3, width - len(left) - len(right) - 2)
    return f"{left} {'.' * fill} {right}"


class Progress:
    """START / OK / SKIP / ERROR lines for Python assets, numbered as dbt numbers its nodes."""

    def __init__(self, total: int, name_of: Callable[[str], str]) -> None:
        self.total = total
        self.name_of = name_of
        self.count = 0
        self._lock = threading.Lock()

    def started(self, uid: str) -> None:
        with self._lock:
            self.count += 1
            n = self.count
        say(dots(f"{n} of {self.total} START python asset {self.name_of(uid)}", "[RUN]"))

    def finished(self, result: NodeResult) -> None:
        timing = f"in {result.execution_time:.2f}s"
        if result.status == "success":
            say(dots(f"OK python asset {result.name}", f"[{result.message} {timing}]"))
        elif result.status == "no-op":
            say(dots(f"NO-OP python asset {result.name}", f"[{result.message}]"))
        elif result.status == "skipped":
            say(f"SKIP python asset {result.name}: {result.message}")
        else:
            say(dots(f"ERROR python asset {result.name}", f"[ERROR {timing}]"))
            say(f"  {result.message}", err=True)
            if result.traceback:
                say(result.traceback.rstrip(), err=True)
