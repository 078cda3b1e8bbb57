"""Find the function a ``python:`` value names, its signature and its code version.

From the source when it can say (a plain top-level ``def``: the common case), so that
``braid ls``, ``status``, ``lineage`` and validation import nothing; by importing the module
otherwise, as a run would (the messages are :mod:`dbt_braid.core.loader`'s either way). The
:class:`~dbt_braid.core.loader.FunctionRef` returned imports on first use.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dbt_braid.core.loader import FunctionRef, module_file, syntax_error
from dbt_braid.declare.code_version import (
    function_vars,
    function_version,
    module_vars,
    module_version,
)
from dbt_braid.declare.source import ModuleSource, plain_function, read_module, signature


@dataclass(frozen=True)
class FoundFunction:
    """What validation needs of the function, and how to get the function itself later."""

    ref: FunctionRef
    #: None when Python cannot tell (a builtin): its parameters are not checked
    signature: inspect.Signature | None
    code_version: str
    #: ``async def`` (only known when read from the source)
    is_async: bool = False
    #: the dbt vars it reads (declare.code_version.vars_read); None: any of them
    vars_read: frozenset[str] | None = frozenset()


@dataclass
class SourceCache:
    """Each module file parsed once per command, however many assets it holds."""

    modules: dict[Path, ModuleSource | SyntaxError | None] = field(default_factory=dict)

    def module(self, path: Path) -> ModuleSource | None:
        """The parsed module; None when there is no such file or it cannot be read as text
        (importing decides); raises the SyntaxError of a module Python cannot parse."""
        if path not in self.modules:
            try:
                self.modules[path] = read_module(path) if path.is_file() else None
            except SyntaxError as exc:
                self.modules[path] = exc
            except (OSError, UnicodeDecodeError, ValueError):
                self.modules[path] = None
        found = self.modules[path]
        if isinstance(found, SyntaxError):
            raise found
        return found


def find_function(
    package: str,
    root: Path,
    module: str,
    name: str,
    python: str,
    params: Mapping[str, Any],
    cache: SourceCache,
) -> FoundFunction:
    """Raises :class:`~dbt_braid.core.loader.AssetImportError` with the message for the user."""
    where = module_file(root, module)
    try:
        source = cache.module(where)
    except SyntaxError as exc:
        raise syntax_error(exc, where) from None
    node = plain_function(source, name) if source is not None else None
    if node is not None:
        assert source is not None
        version = function_version(source, name, python, params)
        assert version is not None  # a def binds the name
        return FoundFunction(
            FunctionRef(package, root, module, name),
            signature(node),
            version,
            is_async=isinstance(node, ast.AsyncFunctionDef),
            vars_read=function_vars(source, name),
        )
    ref = FunctionRef(package, root, module, name)
    function = ref.load()
    try:
        sig: inspect.Signature | None = inspect.signature(function)
    except (TypeError, ValueError):
        sig = None
    version = function_version(source, name, python, params) if source is not None else None
    if version is not None:
        assert source is not None
        return FoundFunction(ref, sig, version, vars_read=function_vars(source, name))
    return FoundFunction(ref, sig, module_version(function, python, params),
                         vars_read=module_vars(function))
