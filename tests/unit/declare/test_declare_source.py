"""Reading functions and code versions from the source (``dbt_braid.declare``); pure: no dbt.

Signatures read with ``ast`` must agree with ``inspect.signature`` of the imported function
wherever braid's checks look (names, kinds, which have defaults); a name the source cannot
explain must be left to importing; a version must change exactly when the function, a helper
it reaches or an import it uses changes.
"""

from __future__ import annotations

import importlib.util
import inspect
import textwrap
from pathlib import Path

import pytest
from dbt_braid.core.loader import AssetImportError
from dbt_braid.declare.code_version import function_version, used_sources
from dbt_braid.declare.functions import SourceCache, find_function
from dbt_braid.declare.source import plain_function, read_module, signature

SIGNATURES = '''
import typing

def plain(a, b=1): ...
def keyword_only(a, *, b, c=3): ...
def var_args(a, *rest, **options): ...
def positional_only(a, /, b): ...
def annotated(frame: "pl.DataFrame", n: int = 2) -> None: ...
async def coroutine(a, context): ...
'''


def _module(folder: Path, text: str, name: str = "m") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.py"
    path.write_text(textwrap.dedent(text))
    return path


def _shape(sig: inspect.Signature) -> list[tuple[str, inspect._ParameterKind, bool]]:
    return [(p.name, p.kind, p.default is not p.empty) for p in sig.parameters.values()]


@pytest.mark.parametrize("name", ["plain", "keyword_only", "var_args", "positional_only",
                                  "annotated", "coroutine"])
def test_signatures_agree_with_inspect(tmp_path: Path, name: str) -> None:
    path = _module(tmp_path, SIGNATURES)
    spec = importlib.util.spec_from_file_location("braid_sig_module", path)
    assert spec and spec.loader
    imported = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(imported)
    node = plain_function(read_module(path), name)
    assert node is not None
    assert _shape(signature(node)) == _shape(inspect.signature(getattr(imported, name)))


def test_annotations_are_source_text_and_async_is_noticed(tmp_path: Path) -> None:
    path = _module(tmp_path, SIGNATURES)
    sig = signature(plain_function(read_module(path), "annotated"))  # type: ignore[arg-type]
    assert sig.parameters["frame"].annotation == "'pl.DataFrame'"
    assert sig.parameters["n"].annotation == "int"
    root = tmp_path / "proj"
    _module(root / "python_assets", SIGNATURES)  # python_assets/m.py
    cache = SourceCache()
    found = find_function("async_proj", root, "m", "coroutine", "m.coroutine", {}, cache)
    assert found.is_async and not found.ref.loaded
    assert not find_function("async_proj", root, "m", "plain", "m.plain", {}, cache).is_async


@pytest.mark.parametrize("text", [
    "def deco(f):\n    return f\n\n@deco\ndef f(a): ...\n",          # decorated
    "def g(a): ...\nf = g\n",                                         # assigned
    "from os.path import join as f\n",                                # imported
    "def f(a): ...\ndef f(a, b): ...\n",                              # bound twice
    "from os.path import *\ndef f(a): ...\n",                         # star import
    "try:\n    def f(a): ...\nexcept Exception:\n    f = None\n",     # conditional
    "x = 1\n",                                                        # not there at all
])
def test_what_the_source_cannot_say_is_left_to_importing(tmp_path: Path, text: str) -> None:
    assert plain_function(read_module(_module(tmp_path, text)), "f") is None


def test_the_fallback_imports_and_reads_the_real_signature(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    (root / "python_assets").mkdir(parents=True)
    (root / "python_assets" / "forms.py").write_text(
        "import functools\n\ndef _f(m, horizon):\n    return m\n\n"
        "f = functools.partial(_f, horizon=3)\n")
    found = find_function("fallback_proj", root, "forms", "f", "forms.f", {}, SourceCache())
    assert found.ref.loaded  # imported: the source could not say
    assert found.signature is not None
    assert _shape(found.signature)[0] == ("m", inspect.Parameter.POSITIONAL_OR_KEYWORD, False)
    assert found.signature.parameters["horizon"].default == 3
    with pytest.raises(AssetImportError, match="has no function 'g'"):
        find_function("fallback_proj", root, "forms", "g", "forms.g", {}, SourceCache())


def test_a_syntax_error_is_reported_without_importing(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    (root / "python_assets").mkdir(parents=True)
    (root / "python_assets" / "bad.py").write_text('"""doc"""\n\ndef f(m:\n    return m\n')
    with pytest.raises(AssetImportError, match=r"syntax error in .*bad\.py line 3: .*fix the"):
        find_function("syntax_proj", root, "bad", "f", "bad.f", {}, SourceCache())


VERSIONED = '''
import numpy as np
import pandas as pd
from .shared import clean

LIMIT = 3


class Scaler:
    factor = LIMIT


def _helper(x):
    return _deeper(x) * Scaler.factor


def _deeper(x):
    return np.log(x)


def uses_helper(a):
    return _helper(a)


def uses_pandas(a):
    return pd.DataFrame(clean(a))


def recursive(n):
    return 1 if n <= 1 else n * recursive(n - 1)
'''


def _versions(tmp_path: Path, text: str, params: dict | None = None) -> dict[str, str | None]:
    module = read_module(_module(tmp_path, text, "v"))
    return {name: function_version(module, name, f"v.{name}", params or {})
            for name in ("uses_helper", "uses_pandas", "recursive")}


@pytest.mark.parametrize(("old", "new", "changed"), [
    ("return _helper(a)", "return _helper(a) + 0", {"uses_helper"}),       # the function
    ("np.log(x)", "np.log1p(x)", {"uses_helper"}),                          # a helper's helper
    ("LIMIT = 3", "LIMIT = 4", {"uses_helper"}),                            # via a class
    ("import numpy as np", "import jax.numpy as np", {"uses_helper"}),      # an import used
    ("import pandas as pd", "import polars as pd", {"uses_pandas"}),
    ("from .shared import clean", "from .other import clean", {"uses_pandas"}),
    ("n * recursive(n - 1)", "n * recursive(n - 2)", {"recursive"}),
    ("import pandas as pd\n", "import pandas as pd\nimport os\n", set()),   # unused import
    ("LIMIT = 3\n", "LIMIT = 3\nUNUSED = 1\n", set()),                      # unused constant
])
def test_a_version_changes_with_what_the_function_reaches(tmp_path: Path, old: str, new: str,
                                                          changed: set[str]) -> None:
    before = _versions(tmp_path, VERSIONED)
    assert old in VERSIONED
    after = _versions(tmp_path, VERSIONED.replace(old, new))
    assert {name for name in before if before[name] != after[name]} == changed


def test_a_version_covers_path_and_params(tmp_path: Path) -> None:
    module = read_module(_module(tmp_path, VERSIONED, "v"))
    base = function_version(module, "uses_helper", "v.uses_helper", {"k": 1})
    assert base != function_version(module, "uses_helper", "v.uses_helper", {"k": 2})
    assert base != function_version(module, "uses_helper", "w.uses_helper", {"k": 1})
    assert function_version(module, "clean", "v.clean", {}) is None  # only imported here


def test_used_sources_lists_each_piece_once_in_source_order(tmp_path: Path) -> None:
    module = read_module(_module(tmp_path, VERSIONED, "v"))
    pieces = used_sources(module, "uses_helper")
    assert pieces[0] == "import numpy as np"
    assert pieces[1] == "LIMIT = 3"
    assert pieces[-1].startswith("def uses_helper(a):")
    assert len(pieces) == len(set(pieces)) == 6  # np, LIMIT, Scaler, _helper, _deeper, itself
