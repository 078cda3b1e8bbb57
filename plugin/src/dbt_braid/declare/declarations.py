"""Find ``meta.braid`` declarations in a parsed dbt manifest.

A block may sit under a resource's top-level ``meta:`` or ``config: meta:``; dbt releases
treat the two differently, so :func:`dbt_braid.dbtcore.versions.braid_meta` reads both.
Nothing is validated here: :mod:`dbt_braid.declare.resolve` does that, so that every problem can be
reported at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dbt_braid.core.assets import Relation
from dbt_braid.dbtcore.versions import braid_meta

META_KEY = "braid"


@dataclass(frozen=True)
class Declaration:
    """A ``meta.braid`` block as found on a source table or exposure, not yet validated."""

    resource_id: str
    #: "source" or "exposure" (a misplaced block: the dbt resource type)
    kind: str
    name: str
    package_name: str
    yaml_file: str
    meta: Any
    dbt_depends_on: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    group: str | None = None
    description: str = ""
    owner: Mapping[str, Any] = field(default_factory=dict)
    relation: Relation | None = None
    source_name: str | None = None

    @property
    def label(self) -> str:
        """How the resource is named in messages: the way a dbt user would select it."""
        if self.kind == "source":
            return f"source {self.source_name}.{self.name}"
        return f"{self.kind} {self.name}"


def _owner(owner: Any) -> dict[str, Any]:
    if owner is None:
        return {}
    if hasattr(owner, "to_dict"):
        return {k: v for k, v in owner.to_dict().items() if v is not None}
    return dict(owner) if isinstance(owner, Mapping) else {"name": str(owner)}


def read_declarations(sources: Iterable[Any], exposures: Iterable[Any]) -> list[Declaration]:
    """Every source table and exposure of the manifest that carries a ``braid`` meta block."""
    found: list[Declaration] = []
    for src in sources:
        meta = braid_meta(src, META_KEY)
        if meta is None:
            continue
        found.append(
            Declaration(
                resource_id=src.unique_id,
                kind="source",
                name=src.name,
                package_name=src.package_name,
                yaml_file=src.original_file_path,
                meta=meta,
                tags=tuple(src.tags or ()),
                description=src.description or "",
                relation=Relation(src.database, src.schema, src.identifier),
                source_name=src.source_name,
            )
        )
    for exp in exposures:
        meta = braid_meta(exp, META_KEY)
        if meta is None:
            continue
        found.append(
            Declaration(
                resource_id=exp.unique_id,
                kind="exposure",
                name=exp.name,
                package_name=exp.package_name,
                yaml_file=exp.original_file_path,
                meta=meta,
                dbt_depends_on=tuple(exp.depends_on.nodes),
                tags=tuple(exp.tags or ()),
                group=getattr(exp, "group", None),
                description=exp.description or "",
                owner=_owner(exp.owner),
            )
        )
    return sorted(found, key=lambda d: d.resource_id)


def _yaml_path(node: Any) -> str:
    """The YAML file that describes a node (its ``patch_path``), else its own file."""
    patch = getattr(node, "patch_path", None)
    return patch.split("://", 1)[1] if patch and "://" in patch else node.original_file_path


def misplaced_declarations(nodes: Iterable[Any]) -> list[Declaration]:
    """``meta.braid`` on models, seeds and snapshots: reported, since it would do nothing."""
    found = []
    for node in nodes:
        kind = str(getattr(node.resource_type, "value", node.resource_type))
        if kind not in ("model", "seed", "snapshot"):
            continue
        meta = braid_meta(node, META_KEY)
        if meta is not None:
            found.append(
                Declaration(
                    node.unique_id,
                    kind,
                    node.name,
                    node.package_name,
                    _yaml_path(node),
                    meta,
                )
            )
    return found
