"""When a planned node may start: the rules the engine runs by and the estimate assumes.

:class:`dbt_braid.execution.engine.Engine` starts nodes by these rules and
:func:`dbt_braid.planning.timing.simulate` estimates a run by the same ones, so a rule
changed here changes both: a plan refined by its estimate is refined for the run it gets.

- A Python asset starts once everything it needs has finished (a dbt node counts as
  finished when dbt reports it, before the rest of its batch).
- dbt batches run one after another, in order, each once the Python assets it reads have
  finished.
- Within a batch, dbt starts a node once the nodes it needs have finished (dbt's own rule:
  the estimate models it with the plan's ``needs``).

"finished" is any status: what failed or was skipped decides what is skipped downstream,
not what may start.
"""

from __future__ import annotations

from collections.abc import Container

from dbt_braid.planning.batches import DbtBatch, PythonStep


def python_may_start(step: PythonStep, finished: Container[str]) -> bool:
    """A Python asset waits for everything in its ``needs``, and for nothing else."""
    return all(need in finished for need in step.needs)


def batch_may_start(batch: DbtBatch, finished: Container[str]) -> bool:
    """A dbt batch (once the one before it has ended) waits for the Python assets it reads."""
    return all(need in finished for need in batch.needs_python)
