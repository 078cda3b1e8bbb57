"""Where braid keeps each Python asset's code version in dbt's manifest, for ``state:``.

dbt's ``state:modified`` compares the current manifest with the one in ``--state``; it knows
nothing of a Python function's source. So braid writes each asset's version
(:mod:`dbt_braid.declare.code_version`) into the manifest it leaves in ``target/``, at
``config.meta.braid.code_version`` of the source table or exposure that declares the asset
(and the same in its top-level ``meta``, which dbt 1.11+ keeps equal), and its selector
compares the versions (:func:`code_changed`).

Why there and not in ``unrendered_config``, which dbt's own comparison reads: a manifest
written by plain ``dbt`` (``dbt parse``, ``dbt run``) has no versions, so with the version in
``unrendered_config`` every Python-declaring source would be "modified" whenever one side
came from plain dbt, in braid and in plain dbt's slim CI alike. In ``meta`` the version is
ignored by dbt's comparison (meta changes are not changes to dbt), survives in manifest.json,
and is shown by ``dbt docs``; braid alone reads it. A change to ``meta.braid`` itself
(``params``, ``python:``) is still in ``unrendered_config``, so dbt sees that one too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dbt_braid.core.assets import PythonAsset
from dbt_braid.dbtcore.versions import braid_meta

BRAID = "braid"
CODE_VERSION = "code_version"


def _declaring(manifest: Any, unique_id: str) -> Any:
    return manifest.sources.get(unique_id) or manifest.exposures.get(unique_id)


def stamp_code_versions(manifest: Any, assets: Iterable[PythonAsset]) -> None:
    """Write each asset's version into its declaring resource's meta (in memory: dbt writes
    the manifest to ``target/`` after each invocation, braid after a run without any)."""
    for asset in assets:
        resource = _declaring(manifest, asset.declared_by)
        if resource is None:
            continue
        block = {**(braid_meta(resource, BRAID) or {}), CODE_VERSION: asset.code_version}
        resource.config.meta = {**(resource.config.meta or {}), BRAID: block}
        if BRAID in (resource.meta or {}):
            resource.meta = {**resource.meta, BRAID: block}


def stored_code_version(manifest: Any, unique_id: str) -> str | None:
    """The version recorded for the asset declared by ``unique_id``; None when the manifest
    has no such resource or no version (written by plain dbt, or before braid kept one)."""
    resource = _declaring(manifest, unique_id)
    block = braid_meta(resource, BRAID) if resource is not None else None
    version = block.get(CODE_VERSION) if isinstance(block, dict) else None
    return version if isinstance(version, str) else None


def code_changed(old_manifest: Any, asset: PythonAsset) -> bool:
    """Whether the asset's code changed since ``old_manifest``: its version differs, or the
    old manifest has the resource but no version (unknown counts as changed). A resource the
    old manifest lacks is dbt's ``state:new``, which dbt already counts as modified."""
    if _declaring(old_manifest, asset.declared_by) is None:
        return False
    return stored_code_version(old_manifest, asset.declared_by) != asset.code_version
