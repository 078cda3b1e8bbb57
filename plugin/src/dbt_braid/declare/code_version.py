"""An asset's code version: what must change for the asset to count as changed.

The version hashes the asset function's own source, the source of the module-level names it
uses, followed transitively (helpers, classes, constants: whole top-level statements), the
import line of each module-level import it uses, its ``python:`` path and its params. So
editing one function of a module changes that asset's version only, editing a helper changes
the versions of the functions that call it, and swapping ``import numpy as np`` for another
library changes the versions of the functions that use ``np``. Code in other modules (a
helper imported from elsewhere) counts by its import line only. The values of the dbt vars
the code reads (``context.vars["name"]``) are mixed in when the run knows them
(:func:`with_vars`), so ``--vars`` that change what the asset computes change its version.

A name can only be followed when the module binds it at top level; anything else (a function
re-exported from another module by an import) falls back to hashing the whole module the
imported function was defined in, as before.
"""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import inspect
import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from dbt_braid.core.assets import PythonAsset
from dbt_braid.declare.source import ModuleSource, source_text


def _import_line(stmt: ast.Import | ast.ImportFrom, name: str) -> str:
    """The one alias of an import statement that binds ``name``, as its own line."""
    for alias in stmt.names:
        if (alias.asname or alias.name.split(".")[0]) != name:
            continue
        shown = alias.name + (f" as {alias.asname}" if alias.asname else "")
        if isinstance(stmt, ast.ImportFrom):
            return f"from {'.' * stmt.level}{stmt.module or ''} import {shown}"
        return f"import {shown}"
    return ast.unparse(stmt)


def _names_used(stmt: ast.stmt) -> set[str]:
    return {node.id for node in ast.walk(stmt) if isinstance(node, ast.Name)}


def _reached(module: ModuleSource, name: str) -> dict[tuple[int, str], ast.stmt]:
    """``name``'s top-level statements and those of every module-level name they use,
    transitively, by (line, the name an import binds)."""
    found: dict[tuple[int, str], ast.stmt] = {}
    seen: set[str] = set()
    todo = [name]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        for stmt in module.bindings.get(current, ()):
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                found[(stmt.lineno, current)] = stmt
                continue
            key = (stmt.lineno, "")
            if key not in found:
                found[key] = stmt
                todo.extend(_names_used(stmt) - seen)
    return found


def used_sources(module: ModuleSource, name: str) -> list[str]:
    """The source of ``name``'s top-level statements and of every module-level name they use,
    transitively, in source order; imports as the line of the alias used."""
    found = _reached(module, name)
    return [_import_line(stmt, key[1]) if isinstance(stmt, (ast.Import, ast.ImportFrom))
            else module.segment(stmt) for key, stmt in sorted(found.items())]


def vars_read(trees: Iterable[ast.AST]) -> frozenset[str] | None:
    """The names of dbt vars the code reads through ``context.vars`` (any ``X.vars``):
    ``X.vars["name"]``, ``X.vars.get("name", ...)``, ``"name" in X.vars``. None when it uses
    ``.vars`` any other way (a computed key, the whole mapping), so that every var counts."""
    names: set[str] = set()
    for tree in trees:
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Attribute) and node.attr == "vars"):
                continue
            key = _var_key(node, parents.get(node), parents)
            if key is None:
                return None
            names.add(key)
    return frozenset(names)


def _constant(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _var_key(node: ast.Attribute, parent: ast.AST | None, parents: Mapping[ast.AST, ast.AST]
             ) -> str | None:
    """The var an ``X.vars`` use reads; None when it cannot be told."""
    if isinstance(parent, ast.Subscript) and parent.value is node:
        return _constant(parent.slice)
    if isinstance(parent, ast.Attribute) and parent.attr == "get":
        call = parents.get(parent)
        if isinstance(call, ast.Call) and call.func is parent and call.args:
            return _constant(call.args[0])
        return None
    if isinstance(parent, ast.Compare) and len(parent.ops) == 1 and parent.comparators[0] is node \
            and isinstance(parent.ops[0], (ast.In, ast.NotIn)):
        return _constant(parent.left)
    return None


def function_vars(module: ModuleSource, name: str) -> frozenset[str] | None:
    """The vars function ``name`` of ``module`` reads, the helpers it reaches included."""
    return vars_read(_reached(module, name).values())


def module_vars(function: Callable[..., Any]) -> frozenset[str] | None:
    """The fallback, as :func:`module_version`: the vars the whole module reads; None when
    its source cannot be read."""
    try:
        file = inspect.getsourcefile(function)
        return vars_read([ast.parse(source_text(Path(file)))]) if file else None
    except (OSError, TypeError, SyntaxError, ValueError):
        return None


#: a var the code reads that no project and no --vars sets
UNSET = "<unset>"


def with_vars(version: str, names: frozenset[str] | None, values: Mapping[str, Any]) -> str:
    """``version`` with the values of the vars it reads mixed in (all vars for None), as dbt's
    ``state:modified`` counts the vars a config renders; unchanged when it reads none."""
    if names is not None and not names:
        return version
    chosen = dict(values) if names is None else {n: values.get(n, UNSET) for n in sorted(names)}
    payload = json.dumps([version, chosen], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def _digest(python: str, code: Any, params: Mapping[str, Any]) -> str:
    payload = json.dumps([python, code, params], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def function_version(
    module: ModuleSource, name: str, python: str, params: Mapping[str, Any]
) -> str | None:
    """The version of function ``name`` of ``module``; None when the module does not bind
    ``name`` itself (only an import of it, or nothing at top level)."""
    stmts = module.bindings.get(name, ())
    if not stmts or all(isinstance(s, (ast.Import, ast.ImportFrom)) for s in stmts):
        return None
    return _digest(python, used_sources(module, name), params)


def module_version(
    function: Callable[..., Any], python: str, params: Mapping[str, Any]
) -> str:
    """The fallback: the whole module the imported function was defined in."""
    try:
        file = inspect.getsourcefile(function)
        source = source_text(Path(file)) if file else inspect.getsource(function)
    except (OSError, TypeError, SyntaxError):
        source = getattr(function, "__qualname__", repr(function))
    return _digest(python, source, params)


def asset_with_vars(asset: PythonAsset, values: Mapping[str, Any]) -> PythonAsset:
    """The asset with the values of the vars it reads (``values``: as its package sees them,
    ``--vars`` over the project's) in its code version: a change of them makes it stale and
    ``state:modified``, as dbt counts the vars a config renders."""
    if asset.vars_read is not None and not asset.vars_read:
        return asset
    return dataclasses.replace(asset, code_version=with_vars(asset.code_version,
                                                             asset.vars_read, values))
