"""A braid run's console lines that are dbt's own: built from dbt's event classes and its
printer, so they read as dbt writes them on every supported release (and in JSON logs).

A braid run is several dbt invocations, each of which would print its own header and
end-of-run summary. braid quiets those (:mod:`.patches` turns them into debug lines) and
prints them once instead: :func:`fire_header` before anything runs, :func:`fire_summary`
after everything ran, over the dbt nodes and the Python assets together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

#: a Python asset's resource type in dbt's lines ("Finished running 2 python assets ...")
PYTHON_ASSET = "python asset"


def fire_header(manifest: Any, credentials_type: str, threads: int, target: str,
                n_python: int, total: int, warnings: Sequence[tuple[Any, Any]] = ()) -> None:
    """dbt's header, once: version, adapter, the parse's ``warnings`` (each event, level),
    what the project holds, concurrency."""
    from dbt.events.types import ConcurrencyLine, FoundStats, MainReportVersion
    from dbt.version import installed
    from dbt_common.events.format import pluralize
    from dbt_common.events.functions import LOG_VERSION, fire_event
    from dbt_common.events.types import Formatting, Note

    fire_event(MainReportVersion(version=str(installed), log_version=LOG_VERSION))
    from dbt_braid.dbtcore.patches import old_release_note

    note = old_release_note()
    if note:
        fire_event(Note(msg=note))
    _fire_adapter_registered(credentials_type)
    for event, level in warnings:
        fire_event(event, level=level)
    stats = _stats(manifest)
    line = ", ".join(pluralize(n, kind).replace("_", " ") for kind, n in stats.items() if n)
    if n_python:
        line += f", {pluralize(n_python, PYTHON_ASSET)}"
    fire_event(FoundStats(stat_line=line))
    fire_event(Formatting(""))
    fire_event(ConcurrencyLine(num_threads=threads, target_name=target, node_count=total))
    fire_event(Formatting(""))


def _fire_adapter_registered(adapter: str) -> None:
    from dbt.adapters.events.types import AdapterRegistered
    from dbt.adapters.factory import FACTORY
    from dbt_common.events.base_types import EventLevel
    from dbt_common.events.functions import fire_event

    try:
        version = FACTORY._adapter_version(adapter)
    except Exception:  # an adapter without dbt's version module: say less, not fail
        return
    fire_event(AdapterRegistered(adapter_name=adapter, adapter_version=version),
               level=EventLevel.INFO)


def _stats(manifest: Any) -> dict[Any, int]:
    """What dbt's "Found ..." line counts (``dbt.compilation._generate_stats``)."""
    try:
        from dbt.compilation import _generate_stats

        return dict(_generate_stats(manifest))
    except Exception:  # the private helper moved: count the nodes by type, as it does
        counts: dict[Any, int] = {}
        for node in manifest.nodes.values():
            counts[node.resource_type] = counts.get(node.resource_type, 0) + 1
        return counts


def fire_skip(node: Any, index: int, total: int) -> None:
    """dbt's SKIP line for a dbt node that braid did not hand to dbt (its upstream, a
    Python asset or a node of an earlier batch, did not succeed)."""
    from dbt.events.types import SkippingDetails
    from dbt_common.events.functions import fire_event

    fire_event(SkippingDetails(resource_type=str(node.resource_type), schema=node.schema,
                               node_name=node.name, index=index, total=total,
                               node_info=node.node_info))


@dataclass
class PythonNode:
    """A Python asset as dbt's printer reads a node."""

    unique_id: str
    name: str
    original_file_path: str
    resource_type: str = PYTHON_ASSET
    node_info: dict[str, Any] | None = None


@dataclass
class Shown:
    """A result dbt did not produce (a Python asset's, or a dbt node braid skipped), as
    dbt's printer reads a ``RunResult``."""

    node: Any
    status: Any
    message: str | None = None
    thread_id: str = "braid"


def shown(node: Any, status: str, message: str | None) -> Shown:
    from dbt.artifacts.schemas.results import NodeStatus

    return Shown(node=node, status=NodeStatus(status), message=message)


def fire_summary(dbt_results: Iterable[Any], braid_results: Sequence[Shown], elapsed: float,
                 interrupted: bool, between: Sequence[Callable[[], None]] = (),
                 end_failure: BaseException | None = None) -> None:
    """dbt's end of run, once for the whole braid run: "Finished running ...", what a
    command prints next (``between``: ``dbt seed --show``'s tables), the "Completed with N
    errors" block (failures of both kinds), ``Done. PASS=..`` and dbt's deprecation summary.
    With ``end_failure`` (the project's on-run-end failed) as dbt prints that: the results
    as after an interrupt, "Finished running", then dbt's error."""
    from dbt import utils
    from dbt.adapters.events.types import FinishedRunningStats
    from dbt.events.types import MainEncounteredError
    from dbt.task.printer import get_counts, print_run_end_messages
    from dbt_common.events.functions import fire_event
    from dbt_common.events.types import Formatting

    results = [*dbt_results, *braid_results]
    nodes = [r.node for r in results if getattr(r, "node", None) is not None]
    finished = FinishedRunningStats(
        stat_line=get_counts(nodes),
        # dbt's annotation says int; dbt itself hands it the float of seconds, as here
        execution=utils.humanize_execution_time(elapsed),  # type: ignore[arg-type]
        execution_time=elapsed)
    if end_failure is not None:
        print_run_end_messages(results, keyboard_interrupt=True)
        fire_event(Formatting(""))
        fire_event(finished)
        fire_event(MainEncounteredError(exc=str(end_failure)))
    else:
        fire_event(Formatting(""))
        fire_event(finished)
        for show in between:
            show()
        print_run_end_messages(results, keyboard_interrupt=interrupted)
    # what each dbt command prints last; a braid run's invocations left it for here
    from dbt.deprecations import show_deprecations_summary

    show_deprecations_summary()
