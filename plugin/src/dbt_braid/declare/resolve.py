"""Validate ``meta.braid`` declarations and resolve them into :class:`PythonAsset` objects.

Every problem is collected before anything is raised, so a user fixes a broken project in
one pass: schema errors, unknown or ambiguous names, missing modules and functions,
parameters that match nothing, name clashes, and dependency cycles (:mod:`.cycles`, from
the inputs that resolved and dbt's own dependencies; the unified graph is checked again later,
:func:`dbt_braid.graph.unified.check_acyclic`, for build's test edges).
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from dbt_braid.core.assets import PythonAsset, python_unique_id, safe_name
from dbt_braid.core.errors import BraidUserError, Problem
from dbt_braid.core.loader import ASSETS_DIR, AssetImportError
from dbt_braid.declare.cycles import describe, find_cycles
from dbt_braid.declare.declarations import Declaration
from dbt_braid.declare.functions import SourceCache, find_function
from dbt_braid.declare.names import DEPENDABLE_TYPES, Names, ProjectIndex
from dbt_braid.declare.policies import partitions_of, retries_of, timeout_of
from dbt_braid.declare.schema_checks import schema_problems
from dbt_braid.declare.signature_checks import CONTEXT, WINDOW_ARGS, signature_problems

DEFAULT_IO = {"source": "table", "exposure": "pickle"}


def display_file(decl: Declaration, index: ProjectIndex) -> str:
    """The declaring YAML file, relative to the root project for packages too."""
    return display_file_of(decl.package_name, decl.yaml_file, index)


def display_file_of(package_name: str, yaml_file: str, index: ProjectIndex) -> str:
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


def _module_path(decl: Declaration, package: str, module: str, index: ProjectIndex) -> str:
    """The function's module, relative to the declaring project's root (as dbt's paths are)."""
    local = Path(ASSETS_DIR, *module.split(".")).with_suffix(".py")
    if package == decl.package_name:
        return str(local)
    here = index.package_roots.get(decl.package_name)
    there = index.package_roots[package]
    return os.path.relpath(there / local, here) if here else str(there / local)


def _split_python(decl: Declaration, python: str, index: ProjectIndex) -> tuple[str, str, str]:
    """(package, module, function) for a ``python:`` value."""
    parts = python.split(".")
    if len(parts) >= 3 and parts[0] in index.package_roots:
        return parts[0], ".".join(parts[1:-1]), parts[-1]
    return decl.package_name, ".".join(parts[:-1]), parts[-1]


def _inputs(decl: Declaration, names: Names, file: str) -> tuple[dict[str, str], list[Problem]]:
    problems: list[Problem] = []
    inputs: dict[str, str] = {}
    raw = decl.meta.get("depends_on") or []
    pairs: Iterable[tuple[str | None, str]]
    pairs = raw.items() if isinstance(raw, Mapping) else [(None, n) for n in raw]
    for arg, name in pairs:
        uid, error = names.resolve(name, asking=decl.name)
        key = f"meta.braid.depends_on.{arg}" if arg else "meta.braid.depends_on"
        if error or uid is None:
            problems.append(Problem(file, decl.label, key, error or "unresolved"))
            continue
        argument = arg or names.arg_name(uid)
        if argument == CONTEXT:
            problems.append(
                Problem(
                    file,
                    decl.label,
                    key,
                    "'context' is the argument braid "
                    "passes the run context in; rename it with the mapping "
                    "form, e.g. depends_on: {upstream: context}",
                )
            )
            continue
        if argument in inputs and inputs[argument] != uid:
            problems.append(
                Problem(
                    file,
                    decl.label,
                    key,
                    f"two dependencies arrive as argument {argument!r} "
                    f"({inputs[argument]}, {uid}); use the mapping form argument: name",
                )
            )
            continue
        inputs[argument] = uid
    taken = set(inputs.values())
    for uid in decl.dbt_depends_on:
        uid = names.asset_by_source.get(uid, uid)
        if uid in taken:
            continue
        argument = names.arg_name(uid)
        if argument in inputs:
            problems.append(
                Problem(
                    file,
                    decl.label,
                    "depends_on",
                    f"dbt's depends_on {uid} arrives as argument "
                    f"{argument!r}, already taken by {inputs[argument]}; "
                    "rename one in meta.braid.depends_on",
                )
            )
            continue
        inputs[argument] = uid
        taken.add(uid)
    return inputs, problems


def import_problems(assets: Iterable[PythonAsset], index: ProjectIndex) -> list[Problem]:
    """Import each asset's module (once) and report the ones that fail, as declaration
    problems: what ``braid run`` checks before anything runs, for the assets it will run."""
    problems = []
    for asset in assets:
        try:
            asset.function_ref.load()
        except AssetImportError as exc:
            file = display_file_of(asset.package_name, asset.yaml_file, index)
            problems.append(Problem(file, asset.label, "meta.braid.python", str(exc)))
    return problems


def resolve_assets(
    declarations: Iterable[Declaration],
    index: ProjectIndex,
    misplaced: Iterable[Declaration] = (),
    import_on_error: bool = False,
) -> list[PythonAsset]:
    """Validated Python assets, or :class:`BraidUserError` listing every problem.

    Functions are found and checked from the source; no module is imported unless the source
    cannot say (:mod:`dbt_braid.declare.functions`). ``import_on_error`` (a command that will
    run Python): when there are problems anyway, import the valid assets' modules too, so the
    report lists every problem at once, import failures included.

    ``misplaced``: ``meta.braid`` found on models, seeds or snapshots, where it means nothing.
    """
    sources = SourceCache()
    declarations = list(declarations)
    problems: list[Problem] = [
        Problem(
            display_file(d, index),
            d.label,
            "meta.braid",
            "Python assets are declared on a source table or an exposure, not on a "
            f"{d.kind}; move the block to the source table the function produces",
        )
        for d in misplaced
    ]
    valid: list[Declaration] = []
    for decl in declarations:
        found = schema_problems(decl, display_file(decl, index))
        problems.extend(found)
        if not found:
            valid.append(decl)

    by_name: dict[str, list[Declaration]] = defaultdict(list)
    for decl in declarations:
        by_name[decl.name].append(decl)
    dbt_by_name: dict[str, list[str]] = defaultdict(list)
    for node in index.nodes.values():
        if node.resource_type in DEPENDABLE_TYPES:
            dbt_by_name[node.name].append(node.unique_id)
    for name, decls in sorted(by_name.items()):
        dbt_hits = dbt_by_name.get(name, [])
        for decl in decls:
            others = [d.resource_id for d in decls if d is not decl] + dbt_hits
            if others:
                problems.append(
                    Problem(
                        display_file(decl, index),
                        decl.label,
                        "name",
                        f"Python asset {name!r} clashes with {', '.join(sorted(others))}; "
                        "asset and dbt model/seed/snapshot names share one namespace, rename one"
                        + (
                            " (a source table keeps its relation when renamed"
                            " if you set identifier:)"
                            if decl.kind == "source"
                            else ""
                        ),
                    )
                )

    for decl in declarations:
        if not safe_name(decl.name):
            problems.append(Problem(
                display_file(decl, index), decl.label, "name",
                f"{decl.name!r} cannot name a Python asset: its value would be a file named "
                "after it; use letters, digits, '_', '-' and '.' (no '/', no '..', not "
                f"starting with '.'), renaming the {decl.kind}"))

    names = Names(index, by_name)
    assets: list[PythonAsset] = []
    #: each asset's resolved inputs, and where it is declared (for cycles)
    asset_inputs: dict[str, list[str]] = {}
    declared: dict[str, tuple[str, str]] = {}
    for decl in valid:
        file = display_file(decl, index)
        meta = decl.meta
        inputs, found = _inputs(decl, names, file)
        problems.extend(found)
        uid = python_unique_id(decl.package_name, decl.name)
        asset_inputs[uid] = list(inputs.values())
        declared[uid] = (file, decl.label)
        # a dependency that did not resolve may be the one a parameter waits for: the
        # "matches no dependency" check would only repeat that problem
        incomplete = bool(found)
        params = dict(meta.get("params") or {})
        if CONTEXT in params:
            problems.append(
                Problem(
                    file,
                    decl.label,
                    "meta.braid.params.context",
                    "'context' is the argument braid passes the run context "
                    "in; give the param another name",
                )
            )
        for clash in sorted(set(params) & set(inputs)):
            problems.append(
                Problem(
                    file,
                    decl.label,
                    f"meta.braid.params.{clash}",
                    f"{clash!r} is both a param and a dependency; rename one",
                )
            )
        io = meta.get("io") or DEFAULT_IO[decl.kind]
        if io not in index.io_managers:
            problems.append(
                Problem(
                    file,
                    decl.label,
                    "meta.braid.io",
                    f"unknown IO manager {io!r}; registered: "
                    f"{', '.join(sorted(index.io_managers))}",
                )
            )
        elif index.io_managers[io] and decl.kind != "source":
            problems.append(
                Problem(
                    file,
                    decl.label,
                    "meta.braid.io",
                    f"IO manager {io!r} writes a table and needs a source table; "
                    "declare the asset on a source, or use io: pickle",
                )
            )
        package, module, function = _split_python(decl, meta["python"], index)
        root = index.package_roots.get(package)
        if root is None:
            problems.append(
                Problem(
                    file,
                    decl.label,
                    "meta.braid.python",
                    f"package {package!r} is not installed; run dbt deps",
                )
            )
            continue
        try:
            found_function = find_function(
                package, root, module, function, meta["python"], params, sources
            )
        except AssetImportError as exc:
            message = str(exc)
            first = module.split(".")[0]
            if (
                package == decl.package_name
                and "." in module
                and message.startswith("no module ")
                and not (root / ASSETS_DIR / first).exists()
            ):
                # python: pkg.module.function, and pkg is neither a dbt package nor a local folder
                message = (
                    f"{first!r} is not an installed dbt package, and there is no folder "
                    f"{ASSETS_DIR}/{first}/; add the package to packages.yml and run "
                    "dbt deps, or fix the module name"
                )
            problems.append(Problem(file, decl.label, "meta.braid.python", message))
            continue
        partitions, wrong = partitions_of(meta)
        if wrong:
            problems.append(Problem(file, decl.label, "meta.braid.partitions", wrong))
        problems.extend(_partition_problems(decl, file, meta, inputs, params,
                                            index.io_managers.get(io)))
        wants_context, found = signature_problems(
            decl, file, found_function.signature, inputs, params, incomplete,
            window_args=WINDOW_ARGS if "partitions" in meta else frozenset(),
        )
        problems.extend(found)
        timeout, wrong = timeout_of(meta)
        if wrong:
            problems.append(Problem(file, decl.label, "meta.braid.timeout", wrong))
        tags = meta.get("tags") or []
        tags = [tags] if isinstance(tags, str) else list(tags)
        owner = meta.get("owner", decl.owner)
        assets.append(
            PythonAsset(
                name=decl.name,
                unique_id=python_unique_id(decl.package_name, decl.name),
                package_name=decl.package_name,
                kind="source" if decl.kind == "source" else "exposure",
                declared_by=decl.resource_id,
                yaml_file=decl.yaml_file,
                python=meta["python"],
                module_file=_module_path(decl, package, module, index),
                function_ref=found_function.ref,
                inputs=inputs,
                params=params,
                io=io,
                tags=tuple(dict.fromkeys([*decl.tags, *tags])),
                group=meta.get("group", decl.group),
                description=meta.get("description", decl.description),
                owner=owner if isinstance(owner, Mapping) else {"name": owner},
                relation=decl.relation,
                source_name=decl.source_name,
                wants_context=wants_context,
                code_version=found_function.code_version,
                vars_read=found_function.vars_read,
                timeout=timeout,
                retries=retries_of(meta),
                freshness=dict(meta.get("freshness") or {}),
                partitions=partitions,
            )
        )
    problems.extend(_cycle_problems(asset_inputs, declared, names, index))
    if problems:
        if import_on_error:
            problems.extend(import_problems(assets, index))
        raise BraidUserError(sorted(set(problems)))
    return assets


def _partition_problems(decl: Declaration, file: str, meta: Mapping[str, Any],
                        inputs: Mapping[str, str], params: Mapping[str, Any],
                        writes_table: bool | None) -> list[Problem]:
    """A partitioned asset replaces windows of a table, and its function's ``start`` and
    ``end`` are the window's: neither may be taken by anything else."""
    if "partitions" not in meta:
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


def _cycle_problems(asset_inputs: Mapping[str, list[str]], declared: Mapping[str, tuple[str, str]],
                    names: Names, index: ProjectIndex) -> list[Problem]:
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
