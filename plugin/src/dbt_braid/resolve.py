"""Validate ``meta.braid`` declarations and resolve them into :class:`PythonAsset` objects.

Every problem is collected before anything is raised, so a user fixes a broken project in
one pass: schema errors, unknown or ambiguous names, missing modules and functions,
parameters that match nothing, name clashes. Cycles are found later, on the unified graph
(:func:`dbt_braid.graph.check_acyclic`), because they run through dbt nodes too.
"""

from __future__ import annotations

import difflib
import json
import os
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from dbt_braid.assets import PythonAsset, python_unique_id, safe_name
from dbt_braid.declarations import Declaration
from dbt_braid.declare.functions import SourceCache, find_function
from dbt_braid.declare.signature_checks import CONTEXT, signature_problems
from dbt_braid.errors import BraidUserError, Problem
from dbt_braid.loader import ASSETS_DIR, AssetImportError

#: The dbt resource types a Python asset may depend on by name.
DEPENDABLE_TYPES = ("model", "seed", "snapshot")
DEFAULT_IO = {"source": "table", "exposure": "pickle"}


@cache
def meta_schema() -> dict[str, Any]:
    """The JSON Schema of ``meta.braid``, shipped in the package."""
    text = resources.files("dbt_braid").joinpath("schemas/meta_braid.schema.json").read_text()
    return json.loads(text)


@cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(meta_schema())


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


#: What each ``meta.braid`` key must be, for messages about a value of the wrong shape.
_SHAPES = {
    "python": "a string module.function, e.g. python: forecast.train",
    "depends_on": "a list of names or a mapping argument: name, e.g. depends_on: [fct_orders]",
    "params": "a mapping name: value, e.g. params: {horizon_days: 30}",
    "io": "the name of an IO manager, e.g. io: pickle",
    "tags": "a string or a list of strings, e.g. tags: [ml]",
    "group": "a string",
    "description": "a string",
    "owner": "a string or a mapping, e.g. owner: {name: Data Science}",
}
_ARGUMENT_HINT = "use letters, digits and _, not starting with a digit"


def _got(value: Any) -> str:
    """A value as a message shows it: its YAML kind and, if short, the value."""
    kind = (
        "nothing"
        if value is None
        else "a boolean"
        if isinstance(value, bool)
        else "a number"
        if isinstance(value, (int, float))
        else "a string"
        if isinstance(value, str)
        else "a mapping"
        if isinstance(value, Mapping)
        else "a list"
        if isinstance(value, list)
        else type(value).__name__
    )
    shown = repr(value)
    return f"{kind} {shown}" if value is not None and len(shown) <= 40 else kind


def _schema_problems(decl: Declaration, file: str) -> list[Problem]:
    if not isinstance(decl.meta, Mapping):
        write = (
            f"braid: {{python: {decl.meta}}}"
            if isinstance(decl.meta, str)
            else ("braid: {python: module.function}")
        )
        return [
            Problem(
                file,
                decl.label,
                "meta.braid",
                f"must be a mapping with at least python: module.function, got {_got(decl.meta)}; "
                f"write {write}",
            )
        ]
    allowed = sorted(meta_schema()["properties"])
    validator = _validator()
    problems = []
    for err in sorted(validator.iter_errors(dict(decl.meta)), key=lambda e: list(e.path)):
        path = [str(p) for p in err.path]
        key = ".".join(["meta.braid", *path])
        # in the mapping form of depends_on, a bad argument name or value sits inside the oneOf
        sub = [
            e
            for e in err.context or ()
            if isinstance(err.instance, Mapping)
            and (e.validator == "pattern" or (e.validator == "type" and e.path))
        ]
        if err.validator == "additionalProperties":
            for extra in sorted(set(decl.meta) - set(allowed)):
                close = difflib.get_close_matches(extra, allowed, n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"allowed: {', '.join(allowed)}"
                problems.append(
                    Problem(file, decl.label, f"meta.braid.{extra}", f"unknown key; {hint}")
                )
        elif err.validator == "required":
            problems.append(
                Problem(
                    file,
                    decl.label,
                    "meta.braid.python",
                    "missing; add python: module.function (dbt keeps only one braid: block "
                    "when both meta: and config: meta: have one, so put all keys in one)",
                )
            )
        elif err.validator == "pattern" and path == ["python"]:
            problems.append(
                Problem(
                    file,
                    decl.label,
                    key,
                    f"{err.instance!r} is not module.function; write e.g. python: forecast.train",
                )
            )
        elif err.validator == "pattern" or (sub and sub[0].validator == "pattern"):
            # propertyNames: an argument name that Python cannot take
            name = (sub[0] if sub else err).instance
            problems.append(
                Problem(
                    file,
                    decl.label,
                    f"{key}.{name}",
                    f"{name!r} is not a valid Python argument name; {_ARGUMENT_HINT}",
                )
            )
        elif sub:
            where = ".".join([key, *(str(p) for p in sub[0].path)])
            problems.append(
                Problem(
                    file,
                    decl.label,
                    where,
                    f"must be a name (a string), got {_got(sub[0].instance)}",
                )
            )
        elif path and path[0] in _SHAPES:
            problems.append(
                Problem(
                    file,
                    decl.label,
                    f"meta.braid.{path[0]}",
                    f"must be {_SHAPES[path[0]]}; got {_got(err.instance)}",
                )
            )
        else:
            problems.append(Problem(file, decl.label, key, f"{err.message}"))
    return problems


class _Names:
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
        return sorted((set(self.by_name) | set(self.index.sources)) - {but})

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


def _inputs(decl: Declaration, names: _Names, file: str) -> tuple[dict[str, str], list[Problem]]:
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
        found = _schema_problems(decl, display_file(decl, index))
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

    names = _Names(index, by_name)
    assets: list[PythonAsset] = []
    for decl in valid:
        file = display_file(decl, index)
        meta = decl.meta
        inputs, found = _inputs(decl, names, file)
        problems.extend(found)
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
        wants_context, found = signature_problems(
            decl, file, found_function.signature, inputs, params, incomplete
        )
        problems.extend(found)
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
            )
        )
    if problems:
        if import_on_error:
            problems.extend(import_problems(assets, index))
        raise BraidUserError(sorted(set(problems)))
    return assets
