"""``--defer`` for Python assets: the tables they read that this run does not build.

dbt defers an unselected ``ref`` to the state's relation; braid does the same for a Python
asset's inputs, from the state's manifest.json.
"""

from __future__ import annotations

import json
from pathlib import Path

from dbt_braid.core.assets import Relation
from dbt_braid.core.errors import BraidUserError
from dbt_braid.io.base import StoredRef
from dbt_braid.planning.batches import Plan
from dbt_braid.run.request import flag_on
from dbt_braid.run.session import Loaded


def deferred_inputs(
    loaded: Loaded, plan: Plan, refs: dict[str, tuple[StoredRef, str]]
) -> dict[str, StoredRef]:
    """With ``--defer`` and ``--state DIR`` (or ``--defer-state DIR``): each table a planned
    Python asset reads that this run does not build, where the state's manifest says it is.
    dbt defers unselected refs the same way; the runner reads the deferred table when the
    node is not built in this target (always, with ``--favor-state``)."""
    extra = list(loaded.project.options.extra)
    if not flag_on(extra, "defer"):
        return {}
    state_dir = None
    for flag in ("--defer-state", "--state"):
        if flag in extra and extra.index(flag) + 1 < len(extra):
            state_dir = extra[extra.index(flag) + 1]
            break
    if state_dir is None:
        raise BraidUserError("--defer needs --state DIR (or --defer-state DIR): the artifacts "
                             "of the run to defer to")
    path = Path(state_dir)
    if not path.is_absolute():
        path = loaded.project.project_root / path
    try:
        manifest = json.loads((path / "manifest.json").read_text())
    except (OSError, ValueError) as exc:
        raise BraidUserError(f"--state {state_dir}: cannot read manifest.json there: {exc}"
                             ) from None
    nodes = {**manifest.get("nodes", {}), **manifest.get("sources", {})}
    planned = set(plan.order)
    deferred: dict[str, StoredRef] = {}
    for step in plan.python:
        for uid in loaded.assets[step.unique_id].inputs.values():
            if uid in planned or uid not in refs or refs[uid][1] != "table":
                continue
            dbt_uid = loaded.unified.to_dbt.get(uid, uid)
            node = nodes.get(dbt_uid)
            if not node:
                continue
            identifier = node.get("identifier") or node.get("alias") or node.get("name")
            ref = refs[uid][0]
            deferred[uid] = StoredRef(ref.unique_id, ref.name, ref.package_name,
                                      Relation(node.get("database"), node["schema"], identifier))
    return deferred
