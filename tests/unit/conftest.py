"""The quick tier stays pure: a unit test that starts a process (dbt's CLI, a server, a
browser) or opens a network connection (a database server) fails at that line, instead of
slowly turning the quick loop into a second end-to-end suite. dbt_braid's modules and dbt's
own classes may still be imported and called in-process."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest


class _NotInTheQuickTier(subprocess.Popen):  # type: ignore[type-arg]
    def __init__(self, args: Any, *rest: Any, **kwargs: Any) -> None:
        raise AssertionError(f"a unit test started a process ({args!r}): move it to tests/e2e")


def _no_connection(self: socket.socket, address: Any) -> None:
    raise AssertionError(f"a unit test opened a connection to {address!r}: move it to tests/e2e")


@pytest.fixture(autouse=True)
def pure(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(subprocess, "Popen", _NotInTheQuickTier)
    monkeypatch.setattr(socket.socket, "connect", _no_connection)
    yield
