"""What ``braid history`` and ``braid status`` print: aligned tables or JSON lines."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any

import networkx as nx

from dbt_braid.history.records import when
from dbt_braid.history.status import NodeStatus
from dbt_braid.history.window_status import summary_text

DESCRIPTIONS = {
    "history": "Materializations of the selected nodes, newest first.",
    "status": "Per node: last run, result, and whether it is fresh or stale, and why.",
}


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> Iterator[str]:
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    yield "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()
    yield "  ".join("-" * w for w in widths)
    for row in cells:
        yield "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()


def _short(text: Any, width: int = 60) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


#: run statuses worth a line of their own: the run did not finish
UNFINISHED = frozenset({"running", "abandoned"})


def unfinished_runs(runs: Sequence[Mapping[str, Any]], node_rows: Sequence[Mapping[str, Any]]
                    ) -> list[dict[str, Any]]:
    """A history row for each run that is under way or was abandoned (killed before its
    end), saying how many node rows it left."""
    recorded: dict[str, int] = {}
    for row in node_rows:
        recorded[str(row["run_id"])] = recorded.get(str(row["run_id"]), 0) + 1
    out = []
    for run in runs:
        if run.get("status") not in UNFINISHED:
            continue
        done = recorded.get(str(run["run_id"]), 0)
        what = ("under way" if run["status"] == "running"
                else "stopped before its end (killed?)")
        out.append({
            "run_id": run["run_id"], "unique_id": None, "name": run.get("command") or "braid",
            "kind": "run", "status": run["status"], "started_at": run.get("started_at"),
            "completed_at": run.get("started_at"), "rows_written": None,
            "message": f"{what}; {done} node{'s' if done != 1 else ''} recorded",
        })
    return out


def history_lines(
    rows: Sequence[Mapping[str, Any]], chosen: Collection[str] | None, limit: int, output: str,
    runs: Sequence[Mapping[str, Any]] = (),
) -> Iterator[str]:
    picked = [r for r in rows if chosen is None or r["unique_id"] in chosen]
    if chosen is None:
        picked += unfinished_runs(runs, rows)
    picked.sort(key=when, reverse=True)
    if limit:
        picked = picked[:limit]
    if output == "json":
        for row in picked:
            yield json.dumps(dict(row), default=str)
        return
    if not picked:
        yield "No materializations recorded for this selection."
        return
    windowed = any(r.get("partition_key") for r in picked)
    yield from table(
        ["completed_at", "node", "kind", *(["window"] if windowed else []), "status", "rows",
         "run", "message"],
        [
            [
                (str(r.get("completed_at") or ""))[:19],
                r["name"],
                r["kind"],
                *([r.get("partition_key") or ""] if windowed else []),
                r["status"],
                r.get("rows_written"),
                str(r["run_id"])[:8],
                _short(r.get("message")),
            ]
            for r in picked
        ],
    )


def status_lines(
    graph: nx.DiGraph,
    statuses: Mapping[str, NodeStatus],
    chosen: Collection[str] | None,
    output: str,
    runs: Sequence[Mapping[str, Any]] = (),
) -> Iterator[str]:
    order = [
        u for u in nx.topological_sort(graph) if u in statuses and (chosen is None or u in chosen)
    ]
    if output == "json":
        for uid in order:
            yield json.dumps(statuses[uid].to_dict())
        return
    shown = [statuses[u] for u in order]
    late = any(s.overdue for s in shown)
    windowed = any(s.windows for s in shown)
    yield from table(
        ["node", "kind", "last run", "result", "state", "why", *(["overdue"] if late else []),
         *(["windows"] if windowed else [])],
        [
            [
                s.name,
                s.kind,
                (s.last_run or "never")[:19],
                s.last_status or "",
                s.state,
                _short(s.reason, 70),
                *([s.overdue or ""] if late else []),
                *([summary_text(s.windows) if s.windows else ""] if windowed else []),
            ]
            for s in shown
        ],
    )
    for run in runs:
        if run.get("status") in UNFINISHED:
            state = "is under way" if run["status"] == "running" else "was abandoned"
            yield (f"run {str(run['run_id'])[:8]} ({run.get('command')}, started "
                   f"{str(run.get('started_at') or '')[:19]}) {state}: it has not recorded an "
                   "end; the nodes it finished are shown above")
