"""Hand-built dbt resources and a :class:`ProjectIndex` for resolving declarations without dbt.

``read_declarations`` and ``misplaced_declarations`` read a few attributes of dbt's manifest
nodes; the stand-ins here are plain namespaces carrying exactly those attributes (data, not
a mocked dbt), and :meth:`Project.index` builds the index from them the way
``dbt_braid.run.session.load`` builds it from a parsed manifest. The Python modules live in
a real folder (``<root>/python_assets``), so finding functions reads and imports real files.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from dbt_braid.core.assets import PythonAsset
from dbt_braid.core.errors import BraidUserError
from dbt_braid.declare.declarations import misplaced_declarations, read_declarations
from dbt_braid.declare.names import DEPENDABLE_TYPES, DbtName, ProjectIndex
from dbt_braid.declare.resolve import resolve_assets

#: the root project's name, as in the e2e projects (``model.proj.m``)
PROJECT = "proj"
#: what the built-in plugins register: name -> whether it writes a table
IO_MANAGERS = {"pickle": False, "table": True}


class _Absent:
    """No ``braid`` key at all (``None`` is ``braid:`` with nothing under it)."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()


def _metas(braid: Any, where: str) -> tuple[dict[str, Any], SimpleNamespace]:
    """(``meta``, ``config``) of a resource with ``braid`` under ``meta:`` or ``config: meta:``."""
    block = {} if braid is ABSENT else {"braid": braid}
    if where == "meta":
        return block, SimpleNamespace(meta={})
    return {}, SimpleNamespace(meta=block)


def source(source_name: str, table: str, braid: Any = ABSENT, *, file: str,
           package: str = PROJECT, where: str = "config",
           tags: Iterable[str] = (), description: str = "") -> SimpleNamespace:
    """A source table, with the attributes ``read_declarations`` reads."""
    meta, config = _metas(braid, where)
    return SimpleNamespace(
        unique_id=f"source.{package}.{source_name}.{table}", name=table, source_name=source_name,
        package_name=package, original_file_path=file, meta=meta, config=config,
        tags=list(tags), description=description, database="db", schema=source_name,
        identifier=table, resource_type="source")


def exposure(name: str, braid: Any = ABSENT, *, file: str, package: str = PROJECT,
             depends_on: Iterable[str] = (), owner: Mapping[str, Any] | None = None,
             group: str | None = None, tags: Iterable[str] = (),
             description: str = "") -> SimpleNamespace:
    """An exposure; ``depends_on``: the unique_ids of its ``ref()``s and ``source()``s."""
    meta, config = _metas(braid, "config")
    return SimpleNamespace(
        unique_id=f"exposure.{package}.{name}", name=name, package_name=package,
        original_file_path=file, meta=meta, config=config,
        depends_on=SimpleNamespace(nodes=list(depends_on)),
        owner=dict(owner or {"name": "Data Science"}), group=group, tags=list(tags),
        description=description, resource_type="exposure")


def node(name: str, *, resource_type: str = "model", package: str = PROJECT,
         materialized: str | None = "table", parents: Iterable[str] = (),
         braid: Any = ABSENT, patch_file: str | None = None) -> SimpleNamespace:
    """A model, seed or snapshot; ``parents``: its dbt ``depends_on`` (unique_ids)."""
    meta, config = _metas(braid, "config")
    config.materialized = materialized
    folder = "seeds" if resource_type == "seed" else "models"
    return SimpleNamespace(
        unique_id=f"{resource_type}.{package}.{name}", name=name, package_name=package,
        resource_type=resource_type, original_file_path=f"{folder}/{name}.sql",
        patch_path=f"{package}://{patch_file}" if patch_file else None, meta=meta,
        config=config, depends_on=SimpleNamespace(nodes=list(parents)))


def _by_id(resources: Iterable[SimpleNamespace]) -> dict[str, SimpleNamespace]:
    """Later resources replace earlier ones of the same unique_id (a case over the background)."""
    return {r.unique_id: r for r in resources}


@dataclass(frozen=True)
class Project:
    """A root project (and packages) as resolution sees it: resources and module folders."""

    root: Path
    resources: tuple[SimpleNamespace, ...] = ()
    #: names of disabled dbt nodes
    disabled: frozenset[str] = frozenset()
    #: installed packages: name -> root folder
    packages: Mapping[str, Path] = field(default_factory=dict)

    def with_resources(self, *more: SimpleNamespace) -> Project:
        return Project(self.root, (*self.resources, *more), self.disabled, self.packages)

    def _of(self, kind: str) -> list[SimpleNamespace]:
        return [r for r in _by_id(self.resources).values() if r.resource_type == kind]

    @property
    def nodes(self) -> list[SimpleNamespace]:
        return [r for r in _by_id(self.resources).values() if r.resource_type in DEPENDABLE_TYPES]

    def index(self) -> ProjectIndex:
        """What ``session.load`` builds from the manifest, built from the stand-ins."""
        return ProjectIndex(
            nodes={n.unique_id: DbtName(n.unique_id, n.name, n.package_name, n.resource_type,
                                        n.config.materialized) for n in self.nodes},
            sources={f"{s.source_name}.{s.name}": s.unique_id for s in self._of("source")},
            package_roots={PROJECT: self.root, **self.packages},
            root_project=PROJECT,
            io_managers=IO_MANAGERS,
            disabled=self.disabled,
            exposures=frozenset(e.name for e in self._of("exposure")),
            parents={n.unique_id: tuple(n.depends_on.nodes) for n in self.nodes},
        )

    def resolve(self, import_on_error: bool = False) -> list[PythonAsset]:
        """``resolve_assets`` over every declaration, as ``session.load`` calls it."""
        declarations = read_declarations(self._of("source"), self._of("exposure"))
        misplaced = misplaced_declarations(self.nodes)
        return resolve_assets(declarations, self.index(), misplaced,
                              import_on_error=import_on_error)

    def problems(self, import_on_error: bool = False) -> list[str]:
        """The report's lines (what the CLI prints to stderr); [] when every one resolved."""
        try:
            self.resolve(import_on_error)
        except BraidUserError as exc:
            return [str(p) for p in exc.problems]
        return []


@contextmanager
def own_asset_modules() -> Iterator[None]:
    """Forget the asset modules imported inside the block (``braid_assets.*``), so a module
    imported from one test's folder never answers for another's."""
    before = set(sys.modules)
    try:
        yield
    finally:
        for name in set(sys.modules) - before:
            if name == "braid_assets" or name.startswith("braid_assets."):
                del sys.modules[name]
