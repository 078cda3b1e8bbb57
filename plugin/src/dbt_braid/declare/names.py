"""What a ``depends_on`` name means: a dbt model, seed or snapshot, a source table, or a
Python asset, with messages for names that mean nothing (or too much)."""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dbt_braid.core.assets import python_unique_id
from dbt_braid.declare.declarations import Declaration

#: The dbt resource types a Python asset may depend on by name.
DEPENDABLE_TYPES = ("model", "seed", "snapshot")


@dataclass(frozen=True)
class DbtName:
    """A dbt node a Python asset may depend on."""

    unique_id: str
    name: str
    package_name: str
    resource_type: str
    materialized: str | None = None


@dataclass(frozen=True)
class ProjectIndex:
    """What resolution needs to know of the manifest and the installed packages."""

    nodes: Mapping[str, DbtName]
    #: ``source_name.table_name`` -> source unique_id
    sources: Mapping[str, str]
    #: dbt package name -> its root folder (the root project included)
    package_roots: Mapping[str, Path]
    root_project: str
    #: IO manager name -> whether it needs the asset to be a source table
    io_managers: Mapping[str, bool]
    #: names of disabled dbt nodes, to say so rather than "unknown"
    disabled: frozenset[str] = frozenset()
    #: names of the project's exposures (one without a Python asset holds no data)
    exposures: frozenset[str] = frozenset()
    #: dbt node -> the nodes and sources it reads (dbt's depends_on), for cycles
    parents: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


class Names:
    """Looks up ``depends_on`` names across dbt nodes, sources and Python assets."""

    def __init__(self, index: ProjectIndex, assets: Mapping[str, list[Declaration]]):
        self.index = index
        self.by_name: dict[str, list[str]] = defaultdict(list)
        for node in index.nodes.values():
            if node.resource_type in DEPENDABLE_TYPES:
                self.by_name[node.name].append(node.unique_id)
        self.asset_by_source: dict[str, str] = {}
        for name, decls in assets.items():
            for d in decls:
                uid = python_unique_id(d.package_name, name)
                self.by_name[name].append(uid)
                if d.kind == "source":
                    self.asset_by_source[d.resource_id] = uid

    def candidates(self, but: str | None = None) -> list[str]:
        """Names to suggest for a typo; never the asset that is asking."""
        own = {s for s in self.index.sources if s.split(".", 1)[1] == but}  # itself as source
        return sorted((set(self.by_name) | set(self.index.sources)) - {but} - own)

    def resolve(self, name: str, asking: str | None = None) -> tuple[str | None, str | None]:
        """(unique_id, None) or (None, what is wrong and how to fix it)."""
        if name in self.index.sources:
            sid = self.index.sources[name]
            return self.asset_by_source.get(sid, sid), None
        found = self.by_name.get(name, [])
        if len(found) == 1:
            node = self.index.nodes.get(found[0])
            if node is not None and node.materialized == "ephemeral":
                return None, (
                    f"{name!r} is an ephemeral model: it has no table to read; depend on a "
                    "model built from it, or materialize it as a view or table"
                )
            return found[0], None
        if len(found) > 1:
            qualified = sorted(f"{u.split('.')[1]}.{name}" for u in found)
            return None, (
                f"ambiguous name {name!r}: it matches {', '.join(sorted(found))}; "
                f"qualify it as package.name: {' or '.join(repr(q) for q in qualified)}"
            )
        if "." in name:
            package, _, bare = name.partition(".")
            hits = [u for u in self.by_name.get(bare, []) if u.split(".")[1] == package]
            if len(hits) == 1:
                return hits[0], None
        if name in self.index.disabled:
            return None, f"{name!r} is disabled in dbt; enable it or remove the dependency"
        tables = [s for s in self.index.sources if s.split(".", 1)[1] == name]
        if tables:
            return (
                None,
                f"unknown name {name!r}; a source table is named source.table: {tables[0]!r}",
            )
        if name in self.index.exposures:
            return None, (f"{name!r} is an exposure without a Python asset: it holds no data "
                          "to read; depend on the models it depends on")
        close = difflib.get_close_matches(name, self.candidates(but=asking), n=1)
        hint = (
            f"did you mean {close[0]!r}?"
            if close
            else "name a Python asset, a dbt model, seed or snapshot, or source.table"
        )
        return None, f"unknown dependency {name!r}; {hint}"

    def arg_name(self, unique_id: str) -> str:
        """The keyword argument a dependency arrives as: its name (a source's table name)."""
        return unique_id.rsplit(".", 1)[-1]


def display_file(decl: Declaration, index: ProjectIndex) -> str:
    """The declaring YAML file, relative to the root project for packages too."""
    return display_file_of(decl.package_name, decl.yaml_file, index)


def display_file_of(package_name: str, yaml_file: str, index: ProjectIndex) -> str:
    """A file of a package as the user sees it: relative to the root project."""
    if package_name == index.root_project:
        return yaml_file
    root = index.package_roots.get(package_name)
    project = index.package_roots.get(index.root_project)
    if root is None or project is None:
        return f"{package_name}/{yaml_file}"
    try:
        return str((root / yaml_file).relative_to(project))
    except ValueError:
        return str(root / yaml_file)
