"""braid's own lines on the terminal, in the shape of dbt's (``HH:MM:SS  message``)."""

from __future__ import annotations

import sys
import threading
from datetime import datetime

_lock = threading.Lock()


def say(message: str = "", err: bool = False) -> None:
    stamp = datetime.now().strftime("%H:%M:%S")
    stream = sys.stderr if err else sys.stdout
    with _lock:
        for line in message.splitlines() or [""]:
            print(f"{stamp}  {line}" if line else "", file=stream, flush=True)


def dots(left: str, right: str, width: int = 80) -> str:
    fill = max(3, width - len(left) - len(right) - 2)
    return f"{left} {'.' * fill} {right}"
