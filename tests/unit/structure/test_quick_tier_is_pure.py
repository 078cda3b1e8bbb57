"""tests/unit/conftest.py refuses processes and connections in the quick tier."""

from __future__ import annotations

import socket
import subprocess

import pytest


def test_a_unit_test_cannot_start_a_process() -> None:
    with pytest.raises(AssertionError, match="started a process"):
        subprocess.run(["dbt", "--version"], check=False)


def test_a_unit_test_cannot_connect_to_a_server() -> None:
    with socket.socket() as sock, pytest.raises(AssertionError, match="opened a connection"):
        sock.connect(("127.0.0.1", 5432))
