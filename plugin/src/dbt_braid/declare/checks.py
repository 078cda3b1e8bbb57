"""The checks of :func:`dbt_braid.declare.resolve.resolve_assets`, one function per rule.

Each returns the problems it finds and raises nothing, so resolution can collect every
problem of a project before it reports them (one line each, naming file, resource and fix).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from dbt_braid.core.assets import safe_name
from dbt_braid.core.errors import Problem
from dbt_braid.core.loader import ASSETS_DIR, AssetImportError
from dbt_braid.declare.cycles import describe, find_cycles
from dbt_braid.declare.declarations import Declaration
from dbt_braid.declare.functions import FoundFunction, SourceCache, find_function
from dbt_braid.declare.names import DEPENDABLE_TYPES, Names, ProjectIndex, display_file
from dbt_braid.declare.signature_checks import CONTEXT, WINDOW_ARGS


def misplaced_problems(misplaced: Iterable[Declaration], index: ProjectIndex) -> list[Problem]:
    """``meta.braid`` on a model, seed or snapshot, where it means nothing."""
    return [
        Problem(display_file(d, index), d.label, "meta.braid",
                "Python assets are declared on a source table or an exposure, not on a "
                f"{d.kind}; move the block to the source table the function produces")
        for d in misplaced
    ]


def name_problems(by_name: Mapping[str, list[Declaration]], index: ProjectIndex) -> list[Problem]:
    """Names that clash (assets with each other or with dbt's models, seeds and snapshots,
    which share one namespace) and names that cannot name a file."""
    dbt_by_name: dict[str, list[str]] = defaultdict(list)
    for node in index.nodes.values():
        if node.resource_type in DEPENDABLE_TYPES:
            dbt_by_name[node.name].append(node.unique_id)
    problems = []
    for name, decls in sorted(by_name.items()):
        for decl in decls:
            others = [d.resource_id for d in decls if d is not decl] + dbt_by_name.get(name, [])
            if others:
                keeps = (" (a source table keeps its relation when renamed if you set "
                         "identifier:)" if decl.kind == "source" else "")
                problems.append(Problem(
                    display_file(decl, index), decl.label, "name",
                    f"Python asset {name!r} clashes with {', '.join(sorted(others))}; asset and "
                    f"dbt model/seed/snapshot names share one namespace, rename one{keeps}"))
            if not safe_name(decl.name):
                problems.append(Problem(
                    display_file(decl, index), decl.label, "name",
                    f"{decl.name!r} cannot name a Python asset: its value would be a file named "
                    "after it; use letters, digits, '_', '-' and '.' (no '/', no '..', not "
                    f"starting with '.'), renaming the {decl.kind}"))
    return problems


def param_problems(decl: Declaration, file: str, params: Mapping[str, Any],
                   inputs: Mapping[str, str]) -> list[Problem]:
    """A param named like braid's context argument, or like one of the dependencies."""
    problems = []
    if CONTEXT in params:
        problems.append(Problem(
            file, decl.label, "meta.braid.params.context",
            "'context' is the argument braid passes the run context in; give the param "
            "another name"))
    for clash in sorted(set(params) & set(inputs)):
        problems.append(Problem(file, decl.label, f"meta.braid.params.{clash}",
                                f"{clash!r} is both a param and a dependency; rename one"))
    return problems


def io_problems(decl: Declaration, file: str, io: str, index: ProjectIndex) -> list[Problem]:
    """An IO manager nobody registered, or a table-writing one on an exposure."""
    if io not in index.io_managers:
        return [Problem(file, decl.label, "meta.braid.io",
                        f"unknown IO manager {io!r}; registered: "
                        f"{', '.join(sorted(index.io_managers))}")]
    if index.io_managers[io] and decl.kind != "source":
        return [Problem(file, decl.label, "meta.braid.io",
                        f"IO manager {io!r} writes a table and needs a source table; declare "
                        "the asset on a source, or use io: pickle")]
    return []


def locate_function(decl: Declaration, file: str, where: tuple[str, str, str],
                    params: Mapping[str, Any], index: ProjectIndex,
                    sources: SourceCache) -> FoundFunction | Problem:
    """The function ``python:`` names (``where`` = package, module, function), or the one
    problem that says why it is not there."""
    package, module, function = where
    root = index.package_roots.get(package)
    if root is None:
        return Problem(file, decl.label, "meta.braid.python",
                       f"package {package!r} is not installed; run dbt deps")
    try:
        return find_function(package, root, module, function, decl.meta["python"], params,
                             sources)
    except AssetImportError as exc:
        return Problem(file, decl.label, "meta.braid.python",
                       _missing_module(decl, package, module, root, str(exc)))


def _missing_module(decl: Declaration, package: str, module: str, root: Path,
                    message: str) -> str:
    """``python: pkg.module.function`` where pkg is neither a dbt package nor a local folder
    reads best as that, not as a missing module."""
    first = module.split(".")[0]
    if (package == decl.package_name and "." in module and message.startswith("no module ")
            and not (root / ASSETS_DIR / first).exists()):
        return (f"{first!r} is not an installed dbt package, and there is no folder "
                f"{ASSETS_DIR}/{first}/; add the package to packages.yml and run dbt deps, "
                "or fix the module name")
    return message


def partition_problems(decl: Declaration, file: str, inputs: Mapping[str, str],
                       params: Mapping[str, Any], writes_table: bool | None) -> list[Problem]:
    """A partitioned asset replaces windows of a table, and its function's ``start`` and
    ``end`` are the window's: neither may be taken by anything else."""
    if "partitions" not in decl.meta:
        return []
    problems = []
    if decl.kind != "source" or writes_table is False:
        problems.append(Problem(
            file, decl.label, "meta.braid.partitions",
            "a partitioned asset replaces windows of a table, so it is declared on a source "
            "table with a table IO manager; remove partitions, or declare it on a source"))
    for name in sorted(WINDOW_ARGS & (set(params) | set(inputs))):
        key = f"meta.braid.params.{name}" if name in params else "meta.braid.depends_on"
        problems.append(Problem(
            file, decl.label, key,
            f"{name!r} is the window's {name} in a partitioned asset; rename the "
            + ("param" if name in params else
               "argument with depends_on's mapping form ({argument: name})")))
    return problems


def cycle_problems(asset_inputs: Mapping[str, list[str]], declared: Mapping[str, tuple[str, str]],
                   names: Names, index: ProjectIndex) -> list[Problem]:
    """Each dependency cycle through Python assets, on the first asset's declaration."""
    def shown(uid: str) -> str:
        if uid in asset_inputs:
            return f"python:{uid.rsplit('.', 1)[-1]}"
        node = index.nodes.get(uid)
        return f"{node.resource_type} {node.name}" if node else uid

    problems = []
    for cycle in find_cycles(asset_inputs, index.parents, names.asset_by_source):
        file, label = declared[cycle[0]]
        problems.append(Problem(file, label, "meta.braid.depends_on", describe(cycle, shown)))
    return problems
