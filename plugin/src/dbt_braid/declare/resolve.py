"""Validate ``meta.braid`` declarations and resolve them into :class:`PythonAsset` objects.

Every problem is collected before anything is raised, so a user fixes a broken project in
one pass: schema errors, unknown or ambiguous names, missing modules and functions,
parameters that match nothing, name clashes, and dependency cycles (:mod:`.cycles`, from
the inputs that resolved and dbt's own dependencies; the unified graph is checked again later,
:func:`dbt_braid.graph.unified.check_acyclic`, for build's test edges). The rules are in
:mod:`.checks`; this module walks the declarations and builds the assets.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path

from dbt_braid.core.assets import PythonAsset, python_unique_id
from dbt_braid.core.errors import BraidUserError, Problem
from dbt_braid.core.loader import ASSETS_DIR, AssetImportError
from dbt_braid.declare.checks import (
    cycle_problems,
    io_problems,
    locate_function,
    misplaced_problems,
    name_problems,
    param_problems,
    partition_problems,
)
from dbt_braid.declare.declarations import Declaration
from dbt_braid.declare.functions import SourceCache
from dbt_braid.declare.names import Names, ProjectIndex, display_file, display_file_of
from dbt_braid.declare.policies import partitions_of, retries_of, timeout_of
from dbt_braid.declare.schema_checks import schema_problems
from dbt_braid.declare.signature_checks import CONTEXT, WINDOW_ARGS, signature_problems

DEFAULT_IO = {"source": "table", "exposure": "pickle"}


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
    problems = misplaced_problems(misplaced, index)
    valid: list[Declaration] = []
    for decl in declarations:
        found = schema_problems(decl, display_file(decl, index))
        problems.extend(found)
        if not found:
            valid.append(decl)
    by_name: dict[str, list[Declaration]] = defaultdict(list)
    for decl in declarations:
        by_name[decl.name].append(decl)
    problems.extend(name_problems(by_name, index))

    names = Names(index, by_name)
    assets: list[PythonAsset] = []
    #: each asset's resolved inputs, and where it is declared (for cycles)
    asset_inputs: dict[str, list[str]] = {}
    declared: dict[str, tuple[str, str]] = {}
    for decl in valid:
        file = display_file(decl, index)
        inputs, found = _inputs(decl, names, file)
        problems.extend(found)
        uid = python_unique_id(decl.package_name, decl.name)
        asset_inputs[uid] = list(inputs.values())
        declared[uid] = (file, decl.label)
        # a dependency that did not resolve may be the one a parameter waits for: the
        # "matches no dependency" check would only repeat that problem
        asset = _resolve_one(decl, file, inputs, bool(found), index, sources, problems)
        if asset is not None:
            assets.append(asset)
    problems.extend(cycle_problems(asset_inputs, declared, names, index))
    if problems:
        if import_on_error:
            problems.extend(import_problems(assets, index))
        raise BraidUserError(sorted(set(problems)))
    return assets


def _resolve_one(decl: Declaration, file: str, inputs: dict[str, str], incomplete: bool,
                 index: ProjectIndex, sources: SourceCache,
                 problems: list[Problem]) -> PythonAsset | None:
    """One schema-valid declaration as an asset, adding its problems to ``problems``; None
    when its function cannot be found (nothing else about it can be checked then)."""
    meta = decl.meta
    params = dict(meta.get("params") or {})
    io = meta.get("io") or DEFAULT_IO[decl.kind]
    problems.extend(param_problems(decl, file, params, inputs))
    problems.extend(io_problems(decl, file, io, index))
    where = _split_python(decl, meta["python"], index)
    found = locate_function(decl, file, where, params, index, sources)
    if isinstance(found, Problem):
        problems.append(found)
        return None
    partitions, wrong = partitions_of(meta)
    if wrong:
        problems.append(Problem(file, decl.label, "meta.braid.partitions", wrong))
    problems.extend(partition_problems(decl, file, inputs, params, index.io_managers.get(io)))
    wants_context, wrong_signature = signature_problems(
        decl, file, found.signature, inputs, params, incomplete,
        window_args=WINDOW_ARGS if "partitions" in meta else frozenset(),
    )
    problems.extend(wrong_signature)
    timeout, wrong = timeout_of(meta)
    if wrong:
        problems.append(Problem(file, decl.label, "meta.braid.timeout", wrong))
    tags = meta.get("tags") or []
    tags = [tags] if isinstance(tags, str) else list(tags)
    owner = meta.get("owner", decl.owner)
    return PythonAsset(
        name=decl.name,
        unique_id=python_unique_id(decl.package_name, decl.name),
        package_name=decl.package_name,
        kind="source" if decl.kind == "source" else "exposure",
        declared_by=decl.resource_id,
        yaml_file=decl.yaml_file,
        python=meta["python"],
        module_file=_module_path(decl, where[0], where[1], index),
        function_ref=found.ref,
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
        code_version=found.code_version,
        vars_read=found.vars_read,
        timeout=timeout,
        retries=retries_of(meta),
        freshness=dict(meta.get("freshness") or {}),
        partitions=partitions,
    )
