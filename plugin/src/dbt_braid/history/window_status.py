"""Is each window of a partitioned asset up to date? Pure: no dbt, no database.

A window is a materialization of its own (history keeps a row per window), so it is fresh by
the same rule as a node: computed after its inputs last changed, by today's code. Its inputs
are the asset's upstream nodes; one that is partitioned itself is read window by window
(it has an ``event_time``), so only its overlapping windows count; any other upstream node is
read whole, so its materialization after the window makes the window stale. A window whose
latest attempt failed is ``failed``, one never computed ``missing`` (due to a plain run, but
not stale: nothing was computed from old inputs).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from dbt_braid.core.windows import PartitionSpec, Window, covering, floor, step
from dbt_braid.history.records import SUCCESS, when

IGNORED = frozenset({"skipped", "no-op", "retried"})
#: a window's states: ``done`` (fresh), ``stale``, ``failed``, ``missing``
DONE, STALE, FAILED, MISSING = "done", "stale", "failed", "missing"


@dataclass(frozen=True)
class WindowState:
    """One window from ``begin`` to now, and why it is in its state (stale ones)."""

    key: str
    start: datetime
    end: datetime
    state: str
    reason: str = ""
    #: when its latest successful computation completed ("" when none)
    computed_at: str = ""


@dataclass(frozen=True)
class Upstream:
    """What a window's freshness needs of one upstream node."""

    name: str
    #: completed_at of its latest successful materialization ("" when none)
    materialized_at: str
    stale: bool
    #: a partitioned upstream asset's windows (read by window); None for a node read whole
    windows: Sequence[WindowState] | None = None


def _computations(rows: Iterable[Mapping[str, Any]]
                  ) -> tuple[dict[str, Mapping[str, Any]], dict[str, Mapping[str, Any]]]:
    """Per window key: its latest attempt, and its latest successful one."""
    last: dict[str, Mapping[str, Any]] = {}
    good: dict[str, Mapping[str, Any]] = {}
    for row in sorted(rows, key=when):
        key = row.get("partition_key")
        if not key or row.get("status") in IGNORED:
            continue
        last[str(key)] = row
        if row.get("status") in SUCCESS:
            good[str(key)] = row
    return last, good


def _overlapping(window: Window, states: Sequence[WindowState], starts: Sequence[datetime]
                 ) -> list[WindowState]:
    """The windows of ``states`` (in order, not overlapping each other; ``starts`` theirs)
    that overlap ``window``: found by bisection, as an hourly asset has thousands."""
    at = max(bisect_right(starts, window.start) - 1, 0)
    found = []
    for one in states[at:]:
        if one.start >= window.end:
            break
        if window.start < one.end:
            found.append(one)
    return found


def _why_stale(window: Window, computed_at: str, upstream: Sequence[Upstream],
               starts: Mapping[int, Sequence[datetime]]) -> str:
    """Why a window computed at ``computed_at`` is stale; "" when it is not. ``starts``: the
    window starts of each partitioned upstream node, by its place in ``upstream``."""
    for i, parent in enumerate(upstream):
        if parent.windows is None:
            if parent.stale:
                return f"upstream {parent.name} is stale"
            if parent.materialized_at and parent.materialized_at > computed_at:
                return f"upstream {parent.name} was materialized after the window was computed"
            continue
        for theirs in _overlapping(window, parent.windows, starts[i]):
            if theirs.state in (STALE, FAILED):
                return f"upstream {parent.name}'s window {theirs.key} is {theirs.state}"
            if theirs.computed_at > computed_at:
                return (f"upstream {parent.name}'s window {theirs.key} was computed after this "
                        "window")
    return ""


def window_freshness(spec: PartitionSpec, rows: Iterable[Mapping[str, Any]], now: datetime,
                     code_version: str | None = None, upstream: Sequence[Upstream] = (),
                     code_changed: str = "its code changed since the window was computed"
                     ) -> list[WindowState]:
    """Each window from ``begin`` up to the one holding ``now``, oldest first. ``rows``: the
    asset's history rows (with ``partition_key``); ``code_version``: today's (a window
    computed by another is stale, with the reason ``code_changed``)."""
    last, good = _computations(rows)
    starts = {i: [w.start for w in p.windows] for i, p in enumerate(upstream)
              if p.windows is not None}
    found = []
    for window in covering(spec.begin, step(floor(now, spec.batch_size), spec.batch_size),
                           spec.batch_size):
        latest, success = last.get(window.key), good.get(window.key)
        at = when(success) if success is not None else ""
        if latest is None:
            state, reason = MISSING, ""
        elif latest.get("status") not in SUCCESS:
            state, reason = FAILED, str(latest.get("message") or latest.get("status") or "")
        elif code_version and success is not None and success.get("code_version") != code_version:
            state, reason = STALE, code_changed
        else:
            reason = _why_stale(window, at, upstream, starts)
            state = STALE if reason else DONE
        found.append(WindowState(window.key, window.start, window.end, state, reason, at))
    return found


def ranges(states: Sequence[WindowState], state: str) -> list[str]:
    """The windows in ``state`` as ranges: ``2026-01-03``, ``2026-01-05..2026-01-09``."""
    out: list[str] = []
    start = prev = None
    for i, one in enumerate(states):
        if one.state == state and start is None:
            start = one.key
        if one.state == state:
            prev = one.key
        if start is not None and (one.state != state or i == len(states) - 1):
            out.append(start if start == prev else f"{start}..{prev}")
            start = None
    return out


def summary(states: Sequence[WindowState]) -> dict[str, Any]:
    """How many windows are done and fresh, and which are stale, failed or missing (ranges)."""
    return {
        "total": len(states),
        "done": sum(1 for s in states if s.state == DONE),
        "stale": ranges(states, STALE),
        "failed": ranges(states, FAILED),
        "missing": ranges(states, MISSING),
    }


def due(states: Sequence[WindowState]) -> list[str]:
    """The keys of the windows a run of what is stale computes, when some are stale or
    failed: those, and the missing ones (never computed, so nothing fresh is recomputed);
    none otherwise (a plain run's windows then)."""
    if not any(s.state in (STALE, FAILED) for s in states):
        return []
    return [s.key for s in states if s.state in (STALE, FAILED, MISSING)]


def few(ranges: Sequence[str], shown: int = 3) -> str:
    """The first ``shown`` ranges, and how many more there are."""
    more = f" (+{len(ranges) - shown} more)" if len(ranges) > shown else ""
    return ", ".join(ranges[:shown]) + more


def summary_text(summary: Mapping[str, Any]) -> str:
    """``11/14 done; stale 2026-01-02; failed 2026-01-03; missing 2026-01-13..2026-01-14``."""
    parts = [f"{summary['done']}/{summary['total']} done"]
    for state in (STALE, FAILED, MISSING):
        ranges = list(summary.get(state) or ())
        if ranges:
            parts.append(f"{state} {few(ranges)}")
    return "; ".join(parts)


def node_reason(states: Sequence[WindowState]) -> str:
    """The asset's reason when some of its windows are stale or failed; "" when none is."""
    failed = ranges(states, FAILED)
    if failed:
        return f"window(s) failed: {few(failed)}; braid retry reruns them"
    stale = [s for s in states if s.state == STALE]
    if not stale:
        return ""
    return (f"{len(stale)} of {len(states)} windows stale ({few(ranges(states, STALE))}): "
            f"{stale[0].reason}")


class Judged(Protocol):
    """What :func:`due_windows` reads of a node's status (history.status.NodeStatus)."""

    @property
    def window_states(self) -> Sequence[WindowState]: ...


def due_windows(planned: Iterable[str], judged: Mapping[str, Judged]) -> dict[str, list[str]]:
    """unique_id -> the windows a run selected by ``status:`` computes, for each planned
    partitioned asset with stale or failed windows (``status:stale+`` after an upstream
    change: every window computed from the old upstream); the others go on as a plain run
    does, from their latest window less their lookback."""
    chosen = {}
    for uid in planned:
        status = judged.get(uid)
        keys = due(status.window_states) if status is not None else []
        if keys:
            chosen[uid] = keys
    return chosen
