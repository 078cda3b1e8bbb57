"""An example braid plugin: writes a short summary of each run, for people and for notifiers.

After every ``braid run``/``build``/``retry`` it writes ``target/braid/summary.txt``:

    braid run 3f2c...: success, 10 nodes in 2 dbt invocations, 4.2 s
    success 10
    slowest: predicted_orders (python) 1.8 s, fct_orders (model) 0.9 s, ...

and, when a node failed, one line per failure with its message. Set
``BRAID_SUMMARY_COMMAND`` to a shell command and it is run with the summary on its
standard input (``mail -s 'braid' team@example.com``, ``curl -d @- https://...``): the
notifier part. A failing notifier is reported, never fails the run.

Install it beside braid (``pip install ./examples/braid-run-summary``); ``braid plugins``
then lists it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from typing import Any

from dbt_braid import hookimpl

SLOWEST = 3


def summary(report: Any) -> str:
    """The summary text of a finished run (a ``dbt_braid`` RunReport)."""
    counts = Counter(r.status for r in report.results)
    state = "success" if report.success else "failed"
    if report.interrupted:
        state = "interrupted"
    lines = [
        f"braid {report.command} {report.run_id}: {state}, {len(report.results)} nodes in "
        f"{report.invocations} dbt invocations, {report.elapsed:.1f} s",
        ", ".join(f"{status} {n}" for status, n in sorted(counts.items())),
    ]
    timed = sorted(report.results, key=lambda r: r.execution_time, reverse=True)[:SLOWEST]
    if timed:
        lines.append("slowest: " + ", ".join(
            f"{r.name} ({r.resource_type}) {r.execution_time:.1f} s" for r in timed))
    for r in report.results:
        if r.status in ("error", "fail"):
            lines.append(f"FAILED {r.name} ({r.resource_type}): {r.message}")
    return "\n".join(lines) + "\n"


@hookimpl
def finish_run(report: Any) -> None:
    text = summary(report)
    path = report.target_dir / "summary.txt"  # target/braid/
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    command = os.environ.get("BRAID_SUMMARY_COMMAND")
    if command:
        done = subprocess.run(command, shell=True, input=text, text=True, capture_output=True)
        if done.returncode != 0:
            print(f"braid-run-summary: {command!r} exited {done.returncode}: "
                  f"{done.stderr.strip()}", file=sys.stderr)
