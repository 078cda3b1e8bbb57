"""Runs launched from ``braid serve``: the ``braid`` command itself, in a process of its own.

A launched run is exactly what the command line does (same parse, plan, results, history,
artifacts, lineage, run lock), because it *is* the command line: ``python -m dbt_braid run
...`` with the server's project, profiles and target. The server names the run
(``BRAID_RUN_ID``), keeps its console output in ``target/braid/runs/<run_id>.log`` and
follows it through the progress file the run writes (``emit.progress``), which stays
readable while the run holds a DuckDB file that the server cannot open.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dbt_braid.emit.progress import progress_path, read_events

COMMANDS = ("run", "build")
#: seconds a process whose run has ended may take to exit before the server stops waiting
SETTLE = 60.0
#: terminal colour codes in the console output, left out of the log a page shows
ANSI = re.compile(r"\x1b\[[0-9;]*m")


class BadRequest(ValueError):
    """The request cannot be run as asked (HTTP 400)."""


def selection_args(flag: str, value: Any) -> list[str]:
    """``--select a b`` from ``"a b"``; a word that would read as a flag is refused, so a
    request can never add options of its own."""
    if value in (None, ""):
        return []
    if not isinstance(value, str):
        raise BadRequest(f"{flag[2:]} must be a string of dbt selection words")
    words = value.split()
    bad = [w for w in words if w.startswith("-")]
    if bad:
        raise BadRequest(f"{flag[2:]}: {bad[0]!r} is not a selection word")
    return [flag, *words] if words else []


def run_argv(body: Mapping[str, Any]) -> list[str]:
    """The ``braid`` arguments for a POST /api/runs body."""
    unknown = set(body) - {"command", "select", "exclude", "vars", "full_refresh"}
    if unknown:
        raise BadRequest(f"unknown field {sorted(unknown)[0]!r}; allowed: command, select, "
                         "exclude, vars, full_refresh")
    command = body.get("command", "run")
    if command not in COMMANDS:
        raise BadRequest(f"command must be one of {', '.join(COMMANDS)}, not {command!r}")
    argv = [command, *selection_args("--select", body.get("select")),
            *selection_args("--exclude", body.get("exclude"))]
    variables = body.get("vars")
    if variables not in (None, {}):
        if not isinstance(variables, dict):
            raise BadRequest("vars must be a mapping")
        argv += ["--vars", json.dumps(variables)]
    full_refresh = body.get("full_refresh", False)
    if not isinstance(full_refresh, bool):
        raise BadRequest("full_refresh must be true or false")
    if full_refresh:
        argv.append("--full-refresh")
    return argv


@dataclass
class Launched:
    """A run this server started."""

    run_id: str
    argv: list[str]
    log: Path
    progress: Path
    process: subprocess.Popen[bytes] | None = None
    exit_code: int | None = None
    started: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)
    #: set once the process has exited and the server has taken note (exit_code set)
    _ended: threading.Event = field(default_factory=threading.Event, repr=False)

    def events(self) -> list[dict[str, Any]]:
        return read_events(self.progress)

    def finished(self) -> bool:
        """The run's end is recorded (its history and artifacts are written), though the
        process may still be tidying up."""
        return any(e.get("event") == "finish" for e in self.events())

    def _ended_without_finish(self) -> str:
        """The status of a process that ended before its run recorded an end: cancelled
        when asked to, nothing to do when it exited 0 (``braid retry`` with nothing failed
        or skipped says so and exits 0), else an error (refused, invalid, crashed)."""
        if self.extra.get("cancelled"):
            return "cancelled"
        if self.exit_code == 0:
            return "nothing to retry" if self.extra.get("retry_of") else "nothing to run"
        return "error"

    def state(self, log_lines: int = 200) -> dict[str, Any]:
        """Status (queued, running, then the run's end) and each planned node's state."""
        if self.extra.get("tick"):
            # braid run --due: as many runs as were due, each with an id of its own; this
            # process is followed by its exit code and console alone
            status = ("running" if self.exit_code is None
                      else "success" if self.exit_code == 0
                      else "cancelled" if self.extra.get("cancelled") else "error")
            return {"run_id": self.run_id, "status": status, "argv": ["braid", *self.argv],
                    "exit_code": self.exit_code, "nodes": [], "log": self._log(log_lines),
                    **self.extra}
        events = self.events()
        start = next((e for e in events if e["event"] == "start"), None)
        finish = next((e for e in events if e["event"] == "finish"), None)
        nodes: dict[str, dict[str, Any]] = {}
        if start is not None:
            nodes = {n["unique_id"]: {**n, "status": "pending"} for n in start["nodes"]}
        for e in events:
            if e["event"] == "node_start" and e["unique_id"] in nodes:
                nodes[e["unique_id"]]["status"] = "running"
            elif e["event"] == "node_end" and e["unique_id"] in nodes:
                nodes[e["unique_id"]].update(status=e["status"], message=e.get("message"),
                                             rows=e.get("rows"))
        if finish is not None:
            # final as soon as the end is recorded: the run wrote its history and artifacts
            # before it; the process may take seconds more to exit (dbt's teardown)
            status = finish["status"]
            for r in finish.get("results", []):
                if r["unique_id"] in nodes:
                    nodes[r["unique_id"]].update(status=r["status"], message=r.get("message"))
        elif self.exit_code is not None:
            status = self._ended_without_finish()
        else:
            status = "running" if start is not None else "queued"
        log = self._log(log_lines)
        return {"run_id": self.run_id, "status": status, "argv": ["braid", *self.argv],
                "exit_code": self.exit_code, "nodes": list(nodes.values()), "log": log,
                **self.extra}

    def _log(self, lines: int) -> list[str]:
        try:
            return ANSI.sub("", self.log.read_text(errors="replace")).splitlines()[-lines:]
        except OSError:
            return []

    @property
    def active(self) -> bool:
        return self.exit_code is None

    def cancel(self) -> None:
        """SIGTERM, as CI runners send it: braid stops scheduling, skips what has not
        started, records the run as cancelled and exits 143."""
        self.extra["cancelled"] = True
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def settle(self, timeout: float) -> None:
        """Wait (at most ``timeout`` seconds) for a process whose run's end is recorded
        to exit, so the warehouse it held is free to read."""
        if self.process is not None and self.active and self.finished():
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                return
            self._ended.wait(timeout)


class Launcher:
    """Starts runs as ``braid`` processes and keeps what it started."""

    def __init__(self, project_args: Sequence[str], target_dir: Path, cwd: Path,
                 on_end: Callable[[Launched], None] = lambda run: None) -> None:
        self.project_args = list(project_args)
        self.target_dir = target_dir
        self.cwd = cwd
        self.on_end = on_end
        self.runs: dict[str, Launched] = {}
        self._lock = threading.Lock()

    def started(self) -> list[Launched]:
        """The runs started here, in order (a copy: requests read it from their threads)."""
        with self._lock:
            return list(self.runs.values())

    def active(self) -> Launched | None:
        with self._lock:
            return next((r for r in self.runs.values() if r.active), None)

    def busy(self, settle: float = SETTLE) -> Launched | None:
        """The run started here that still holds the target: one whose end is recorded is
        first given ``settle`` seconds to exit (its end shows at once; what comes next, a
        read of the warehouse or another launch, waits for the process)."""
        run = self.active()
        if run is not None:
            run.settle(settle)
        return self.active()

    def launch(self, argv: Sequence[str], **extra: Any) -> Launched:
        run_id = str(uuid.uuid4())
        folder = self.target_dir / "braid" / "runs"
        folder.mkdir(parents=True, exist_ok=True)
        run = Launched(run_id, list(argv), folder / f"{run_id}.log",
                       progress_path(self.target_dir, run_id), extra=dict(extra))
        env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS":
               os.environ.get("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")}
        if not extra.get("tick"):
            env["BRAID_RUN_ID"] = run_id  # the run takes the id the server answered with
        env.pop("BRAID_SERVE_TOKEN", None)  # the run has no business with it
        with self._lock:
            log = run.log.open("wb")
            run.process = subprocess.Popen(
                [sys.executable, "-m", "dbt_braid", *argv, *self.project_args],
                cwd=self.cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL)
            log.close()
            self.runs[run_id] = run
        threading.Thread(target=self._wait, args=(run,), name=f"braid-serve-{run_id[:8]}",
                         daemon=True).start()
        return run

    def _wait(self, run: Launched) -> None:
        assert run.process is not None
        code = run.process.wait()
        self.on_end(run)  # first: whoever sees the run ended reads the history it wrote
        run.exit_code = code
        run._ended.set()
