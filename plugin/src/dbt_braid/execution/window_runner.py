"""A partitioned asset's run: each window its own attempts and result, summed as dbt sums a
microbatch model's batches.

The first window runs alone (it may create the table), the others in parallel up to the
run's threads: dbt's ``concurrent_batches`` meaning. Writes of one asset's windows are
serialised by the runner (each one transaction); the computing is what runs side by side.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from dbt_braid.core.assets import PythonAsset
from dbt_braid.core.results import NodeResult
from dbt_braid.core.windows import Window


def run_windows(asset: PythonAsset, windows: Sequence[Window],
                run_one: Callable[[Window], NodeResult], threads: int) -> list[NodeResult]:
    """Each window's result, in window order."""
    if not windows:
        return []
    done = [run_one(windows[0])]
    rest = list(windows[1:])
    if len(rest) > 1 and threads > 1:
        with ThreadPoolExecutor(min(threads, len(rest)),
                                thread_name_prefix=f"braid-{asset.name}") as pool:
            done.extend(pool.map(run_one, rest))
    else:
        done.extend(run_one(w) for w in rest)
    return done


def summary(asset: PythonAsset, windows: list[NodeResult], started: str | None,
            completed: str | None, elapsed: float) -> NodeResult:
    """The asset's one result over its windows: success when all succeeded, error when none
    did, dbt's ``partial success`` between (which, as in dbt, skips what is downstream)."""
    ok = [w for w in windows if w.status == "success"]
    failed = [w for w in windows if w.status != "success"]
    result = NodeResult(asset.unique_id, asset.name, "python", "success",
                        execution_time=elapsed, started_at=started, completed_at=completed,
                        windows=windows)
    written = [w.rows_written for w in ok if w.rows_written is not None]
    result.rows_written = sum(written) if written else None
    if ok:
        result.columns = ok[-1].columns
        result.metadata = dict(ok[-1].metadata)
    where = asset.relation or f"the {asset.io} store"
    span = _span(windows)
    if not failed:
        rows = f"{result.rows_written} rows" if result.rows_written is not None else "its rows"
        result.message = (f"wrote {rows} to {where} in {len(windows)} "
                          f"window{'s' if len(windows) != 1 else ''} ({span})")
        return result
    first = failed[0]
    result.traceback = first.traceback
    said = f"window {first.partition}: {first.message}"
    if not ok:
        result.status = "error"
        result.message = (said if len(windows) == 1
                          else f"all {len(windows)} windows failed ({span}); {said}")
    else:
        result.status = "partial success"
        keys = ", ".join(str(w.partition) for w in failed[:5]) + (" ..." if len(failed) > 5
                                                                    else "")
        result.message = (f"PARTIAL SUCCESS ({len(ok)}/{len(windows)} windows; failed: "
                          f"{keys}); {said}")
    return result


def _span(windows: list[NodeResult]) -> str:
    keys = [str(w.partition) for w in windows]
    return keys[0] if len(keys) == 1 else f"{keys[0]} to {keys[-1]}"
