"""An asset's code version: what must change for the asset to count as changed.

The version hashes the asset function's own source, the source of the module-level names it
uses, followed transitively (helpers, classes, constants: whole top-level statements), the
import line of each module-level import it uses, its ``python:`` path and its params. So
editing one function of a module changes that asset's version only, editing a helper changes
the versions of the functions that call it, and swapping ``import numpy as np`` for another
library changes the versions of the functions that use ``np``. Code in other modules (a
helper imported from elsewhere) counts by its import line only.

A name can only be followed when the module binds it at top level; anything else (a function
re-exported from another module by an import) falls back to hashing the whole module the
imported function was defined in, as before.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

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


def used_sources(module: ModuleSource, name: str) -> list[str]:
    """The source of ``name``'s top-level statements and of every module-level name they use,
    transitively, in source order; imports as the line of the alias used."""
    found: dict[tuple[int, str], str] = {}
    seen: set[str] = set()
    todo = [name]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        for stmt in module.bindings.get(current, ()):
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                found[(stmt.lineno, current)] = _import_line(stmt, current)
                continue
            key = (stmt.lineno, "")
            if key not in found:
                found[key] = module.segment(stmt)
                todo.extend(_names_used(stmt) - seen)
    return [found[key] for key in sorted(found)]


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
