"""Import the functions named by ``python:`` from a project's ``python_assets/`` folder.

Importing runs the user's module, which may be slow (a module that imports scikit-learn costs
seconds) or fail. So declarations are checked from the source (:mod:`dbt_braid.declare`), and
a :class:`FunctionRef` imports only when its function is first needed: by ``braid run`` for
the assets it is about to run, or where the source cannot say what the name is.

Each dbt project or package gets its own synthetic parent package
(``braid_assets.<package>``) whose ``__path__`` is its ``python_assets/`` folder, so two
projects may both have a ``forecast.py`` and relative imports inside the folder work.
The folder needs no ``__init__.py``.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import inspect
import sys
import threading
import traceback
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

ASSETS_DIR = "python_assets"
_PARENT = "braid_assets"


#: one import at a time: the synthetic parent packages are shared state in sys.modules
_LOCK = threading.RLock()


class AssetImportError(Exception):
    """The module or function named by ``python:`` cannot be loaded; the message says why."""


def syntax_error(exc: SyntaxError, where: Path) -> AssetImportError:
    """The message for a module Python cannot parse (the same whether read or imported)."""
    if exc.lineno is None:  # the bytes are not text in the module's encoding
        return AssetImportError(
            f"{exc.filename or where}: {exc.msg}; save it as UTF-8 or name its encoding in a "
            "'# -*- coding: NAME -*-' first line"
        )
    return AssetImportError(
        f"syntax error in {exc.filename or where} line {exc.lineno}: {exc.msg}; fix the module"
    )


def _parent_package(package_name: str, package_root: Path) -> str:
    if _PARENT not in sys.modules:
        top = types.ModuleType(_PARENT)
        top.__path__ = []
        sys.modules[_PARENT] = top
    name = f"{_PARENT}.{package_name}"
    folder = str(package_root / ASSETS_DIR)
    existing = sys.modules.get(name)
    if existing is None or list(getattr(existing, "__path__", [])) != [folder]:
        for key in [k for k in sys.modules if k == name or k.startswith(name + ".")]:
            del sys.modules[key]
        mod = types.ModuleType(name)
        mod.__path__ = [folder]
        mod.__file__ = None
        sys.modules[name] = mod
    return name


def module_file(package_root: Path, module: str) -> Path:
    """Where ``module`` would live, for messages: ``python_assets/a/b.py``."""
    base = package_root / ASSETS_DIR / Path(*module.split("."))
    package_init = base / "__init__.py"
    return package_init if package_init.exists() else base.with_suffix(".py")


def load_function(
    package_name: str, package_root: Path, module: str, function: str
) -> Callable[..., Any]:
    """Import ``module`` from the package's ``python_assets/`` and return ``function``."""
    with _LOCK:
        return _load_function(package_name, package_root, module, function)


def _load_function(
    package_name: str, package_root: Path, module: str, function: str
) -> Callable[..., Any]:
    parent = _parent_package(package_name, package_root)
    full = f"{parent}.{module}"
    where = module_file(package_root, module)
    shown = f"{ASSETS_DIR}/{Path(*module.split('.'))}.py"
    try:
        mod = importlib.import_module(full)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (full == exc.name or full.startswith(exc.name + ".")):
            raise AssetImportError(
                f"no module {shown} in {package_root / ASSETS_DIR}; "
                "create it or fix the module name"
            ) from None
        raise AssetImportError(
            f"importing {where} failed: ModuleNotFoundError: {exc}; install it or fix the import"
        ) from None
    except SyntaxError as exc:
        raise syntax_error(exc, where) from None
    except SystemExit as exc:  # sys.exit() at import: never braid's exit code
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        raise AssetImportError(
            f"importing {where} called sys.exit({exc.code!r}) (at {frame.filename} line "
            f"{frame.lineno}); a module of assets must not exit when imported: move that code "
            "into a function or under 'if __name__ == \"__main__\":'"
        ) from None
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # the user's module raised while importing
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        raise AssetImportError(
            f"importing {where} raised {type(exc).__name__}: {exc} "
            f"(at {frame.filename} line {frame.lineno}); fix the module"
        ) from None
    func = getattr(mod, function, None)
    if func is None:
        names = sorted(n for n, v in vars(mod).items() if callable(v) and not n.startswith("_"))
        close = difflib.get_close_matches(function, names, n=1)
        hint = f"did you mean {close[0]!r}?" if close else "define it or fix the function name"
        defines = f" (it defines: {', '.join(names)})" if names else ""
        raise AssetImportError(f"{where} has no function {function!r}; {hint}{defines}")
    if not callable(func):
        raise AssetImportError(
            f"{where}: {function!r} is not a function (its type is {type(func).__name__}); "
            "name a function defined there"
        )
    return func


class FunctionRef:
    """An asset's function: where it lives, imported on first :meth:`load` and then kept.

    Resolution makes one per asset without importing (the source says enough), so commands
    that run no Python never run the user's modules. A pickled ref drops the imported
    function and imports again where it is unpickled.
    """

    def __init__(
        self,
        package_name: str,
        package_root: Path | None,
        module: str,
        name: str,
        function: Callable[..., Any] | None = None,
    ) -> None:
        self.package_name = package_name
        self.package_root = package_root
        self.module = module
        self.name = name
        self._function = function
        self._annotations: dict[str, Any] | None = None

    @classmethod
    def of(cls, function: Callable[..., Any]) -> FunctionRef:
        """A ref to a function already in hand (assets built by hand, in tests)."""
        name = getattr(function, "__name__", "function")
        return cls("", None, getattr(function, "__module__", "") or "", name, function)

    @property
    def loaded(self) -> bool:
        return self._function is not None

    def load(self) -> Callable[..., Any]:
        """The function, imported now if it was not yet (raises :class:`AssetImportError`)."""
        if self._function is None:
            if self.package_root is None:
                raise AssetImportError(f"no module for function {self.name!r}")
            self._function = load_function(
                self.package_name, self.package_root, self.module, self.name
            )
        return self._function

    def annotations(self) -> dict[str, Any]:
        """Each annotated parameter's annotation, from the imported function (the IO
        managers read them to pick pandas, polars or Arrow)."""
        if self._annotations is None:
            try:
                parameters = list(inspect.signature(self.load()).parameters.values())
            except (TypeError, ValueError):  # Python cannot tell (a builtin): none
                parameters = []
            self._annotations = {
                p.name: p.annotation
                for p in parameters
                if p.annotation is not p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
            }
        return self._annotations

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        if self.package_root is not None:
            state["_function"] = None
            state["_annotations"] = None
        return state

    def __repr__(self) -> str:
        return f"FunctionRef({self.package_name}:{self.module}.{self.name})"
