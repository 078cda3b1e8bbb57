"""dbt's own ``target/run_results.json`` for a whole braid run.

A braid run is several dbt invocations; each writes its own run_results.json over the last.
Tools that read dbt's artifacts (``dbt retry``, the ``result:`` selector, artifact uploaders)
expect one file for the command the user ran, so braid writes it once at the end: every
batch's results (project hooks included), a ``skipped`` result for each planned dbt node no
batch ran (its upstream Python asset failed), and the user's own arguments, so that
``dbt retry`` repeats the user's command rather than braid's per-batch invocation. Python
assets are braid's: they are in ``target/braid/run_results.json``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


def skipped_result(node: Any, message: str | None = None) -> Any:
    """A dbt ``RunResult`` for a node braid skipped without invoking dbt, as dbt's own skip
    of a node whose upstream failed: no message (the upstream's result says why), and a
    worker's thread (dbt's on-run-end leaves out the ``main`` thread's results)."""
    from dbt.artifacts.schemas.results import RunStatus
    from dbt.contracts.results import RunResult

    return RunResult(
        status=RunStatus.Skipped,
        timing=[],
        thread_id="braid",
        execution_time=0.0,
        adapter_response={},
        message=message,
        failures=None,
        node=node,
    )


def write_run_results(
    path: Path,
    batches: Sequence[Any],
    skipped: Sequence[Any],
    args: Mapping[str, Any],
    elapsed: float,
) -> None:
    """Write one dbt run results file for the run.

    ``batches``: each invocation's ``RunExecutionResult``; ``skipped``: results from
    :func:`skipped_result`; ``args``: the user's arguments, laid over the last batch's.
    """
    from dbt.artifacts.schemas.run import RunExecutionResult

    merged_args = dict(batches[-1].args) if batches else {}
    merged_args.update(args)
    merged = RunExecutionResult(
        results=[r for batch in batches for r in batch.results] + list(skipped),
        elapsed_time=elapsed,
        args=merged_args,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    merged.write(str(path))
