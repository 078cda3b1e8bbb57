"""What a command asks a run to do: its selection and the flags braid reads itself.

The request is made by the command line (:mod:`dbt_braid.cli.commands`), adjusted while
planning (a ``status:`` selection names the windows to recompute), and read by every phase;
:func:`dbt_flags` is the part of it each dbt invocation gets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from dbt_braid.dbtcore.project import DbtProject
from dbt_braid.selection.select import SelectionRequest


@dataclass
class RunRequest:
    command: str = "run"
    selection: SelectionRequest = field(default_factory=SelectionRequest)
    threads: int | None = None
    full_refresh: bool = False
    fail_fast: bool = False
    #: the flags as given after the command, recorded so ``braid retry`` can repeat them
    argv: list[str] = field(default_factory=list)
    #: what the run is called in results and history when not the command (``retry``)
    label: str | None = None
    #: the registered executor that runs the Python assets (``--executor``; None: braid.yml's
    #: ``executor``, else ``threads``)
    executor: str | None = None
    #: settings for the executor from flags (``--dask-address``), over braid.yml's
    executor_options: dict[str, Any] = field(default_factory=dict)
    #: write source tables the profile's default target also resolves to (dbtcore.targets)
    allow_shared_tables: bool = False
    #: for ``braid retry``: the run_id of the run it retries (history links the two)
    retry_of: str | None = None
    #: for ``braid run --due``: the braid.yml schedule this run is (history records it)
    schedule: str | None = None
    #: dbt's ``--event-time-start``/``--event-time-end`` (aware), for microbatch models and
    #: partitioned assets alike
    event_time_start: datetime | None = None
    event_time_end: datetime | None = None
    #: for ``braid retry``: exactly these windows (keys) of these partitioned assets
    windows: dict[str, list[str]] | None = None


def dbt_flags(request: RunRequest) -> list[str]:
    """The run flags braid forwards to each dbt invocation."""
    flags = ["--full-refresh"] if request.full_refresh else []
    if request.fail_fast:
        flags.append("--fail-fast")
    for flag, moment in (("--event-time-start", request.event_time_start),
                         ("--event-time-end", request.event_time_end)):
        if moment is not None:  # dbt reads a naive value as UTC
            flags += [flag, moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")]
    return flags


def flag_on(flags: Sequence[str], name: str) -> bool:
    """Whether dbt's boolean ``--name`` is on among ``flags`` (the last of ``--name`` and
    ``--no-name`` wins)."""
    chosen = [f for f in flags if f in (f"--{name}", f"--no-{name}")]
    return bool(chosen) and chosen[-1] == f"--{name}"


def wants_empty(project: DbtProject) -> bool:
    """dbt's ``--empty`` among the flags braid passes to dbt."""
    return flag_on(project.options.extra, "empty")
