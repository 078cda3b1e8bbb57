"""A ``python_assets/`` module as its source says it: top-level names and plain functions.

Reading a module with :mod:`ast` costs milliseconds and runs none of its code, where
importing it runs all of it (a module that imports scikit-learn costs seconds). What the
source cannot say for sure (a name bound by an assignment, an import, a decorator that may
change the signature, a star import, a name bound twice) is left to importing:
:func:`plain_function` then returns None.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

#: the default of a parameter read from the source: present, value unknown
HAS_DEFAULT = type("HasDefault", (), {"__repr__": lambda self: "<default>"})()

_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_SCOPES = (*_DEFS, ast.Lambda)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
Def = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass(frozen=True)
class ModuleSource:
    """One parsed module: its text, its tree and which top-level statements bind each name."""

    path: Path
    text: str
    tree: ast.Module
    #: name -> the top-level statements that bind it, in source order
    bindings: Mapping[str, tuple[ast.stmt, ...]]
    #: ``from x import *`` at top level: any name may come from elsewhere
    star_import: bool

    def segment(self, stmt: ast.stmt) -> str:
        """A statement's source text; a function or class from its first decorator on."""
        if isinstance(stmt, _DEFS) and stmt.decorator_list:
            start = min(d.lineno for d in stmt.decorator_list)
            lines = self.text.splitlines()
            return "\n".join(lines[start - 1 : stmt.end_lineno])
        return ast.get_source_segment(self.text, stmt) or ast.unparse(stmt)


def source_text(path: Path) -> str:
    """A module's text decoded as Python decodes source: a ``coding:`` line or a BOM, else
    UTF-8 (raises SyntaxError for what Python would refuse to import, OSError)."""
    import importlib.util

    try:
        return importlib.util.decode_source(path.read_bytes())
    except (UnicodeDecodeError, LookupError) as exc:
        error = SyntaxError(f"the file cannot be decoded as Python source: {exc}")
        error.filename = str(path)
        raise error from None


def read_module(path: Path) -> ModuleSource:
    """Parse ``path`` (raises SyntaxError, OSError)."""
    text = source_text(path)
    tree = ast.parse(text, filename=str(path))
    bindings: dict[str, list[ast.stmt]] = {}
    star = False
    for stmt in tree.body:
        for name in bound_names(stmt):
            if name == "*":
                star = True
            else:
                bindings.setdefault(name, []).append(stmt)
    return ModuleSource(path, text, tree, {k: tuple(v) for k, v in bindings.items()}, star)


def bound_names(stmt: ast.stmt) -> Iterator[str]:
    """The module-level names a top-level statement binds (``*`` for a star import)."""
    if isinstance(stmt, _DEFS):
        yield stmt.name
        return
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        for alias in stmt.names:
            yield alias.asname or alias.name.split(".")[0]
        return
    for node in _walk_scope(stmt):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            yield node.id
        elif isinstance(node, _DEFS) and node is not stmt:
            yield node.name
        elif isinstance(node, (ast.Import, ast.ImportFrom)) and node is not stmt:
            yield from bound_names(node)


def _walk_scope(root: ast.AST) -> Iterator[ast.AST]:
    """Like ast.walk, but not into function, class, lambda or comprehension bodies, whose
    names are their own (the def or class itself is yielded)."""
    todo = [root]
    while todo:
        node = todo.pop()
        yield node
        if node is not root and isinstance(node, (*_SCOPES, *_COMPREHENSIONS)):
            continue
        todo.extend(ast.iter_child_nodes(node))


def plain_function(module: ModuleSource, name: str) -> Def | None:
    """The ``def`` that ``name`` is, when the source alone says so: bound once, at top level,
    by an undecorated def, and no star import that could rebind it."""
    if module.star_import:
        return None
    stmts = module.bindings.get(name, ())
    if len(stmts) != 1:
        return None
    stmt = stmts[0]
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and not stmt.decorator_list:
        return stmt
    return None


def signature(node: Def) -> inspect.Signature:
    """The signature the ``def`` gives the function: names, kinds, whether each has a
    default (:data:`HAS_DEFAULT`; values are not evaluated) and annotations as source text."""
    P = inspect.Parameter
    args = node.args
    positional = [*args.posonlyargs, *args.args]
    first_default = len(positional) - len(args.defaults)
    params: list[inspect.Parameter] = []

    def add(arg: ast.arg, kind: inspect._ParameterKind, has_default: bool = False) -> None:
        annotation = ast.unparse(arg.annotation) if arg.annotation else P.empty
        default = HAS_DEFAULT if has_default else P.empty
        params.append(P(arg.arg, kind, default=default, annotation=annotation))

    for i, arg in enumerate(positional):
        kind = P.POSITIONAL_ONLY if i < len(args.posonlyargs) else P.POSITIONAL_OR_KEYWORD
        add(arg, kind, i >= first_default)
    if args.vararg:
        add(args.vararg, P.VAR_POSITIONAL)
    for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        add(arg, P.KEYWORD_ONLY, default is not None)
    if args.kwarg:
        add(args.kwarg, P.VAR_KEYWORD)
    return inspect.Signature(params)
