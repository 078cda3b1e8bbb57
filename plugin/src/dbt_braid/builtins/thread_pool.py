"""The built-in ``threads`` executor: Python assets in a thread pool of ``--threads``.

Threads, not processes: an asset's inputs and result are in-memory frames that would
otherwise be pickled across, and most of the work happens in C (pandas, Arrow, the
warehouse driver), which releases the GIL.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from dbt_braid.core.markers import hookimpl
from dbt_braid.execution.executors import DEFAULT_EXECUTOR


@hookimpl
def register_executors(register: Any) -> None:
    register(
        DEFAULT_EXECUTOR,
        lambda threads: ThreadPoolExecutor(max_workers=threads, thread_name_prefix="braid-py"),
    )
