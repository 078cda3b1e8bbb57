"""docs/plugins.md documents every hook and every optional IO method; every hook has a
test of its own.

A hook added to dbt_braid.hookspecs without a section in the docs (heading, signature with
the spec's arguments, one line per argument, an example) or without a
``test_hook_<name>`` in tests/test_plugin_hooks.py fails here. So does a protocol added to
dbt_braid.io.base (an optional IO method) without its section under "IO managers' optional
methods" (heading, protocol, signature, one line per argument, when braid calls it, what
braid does without it, an example).
"""

from __future__ import annotations

import inspect
import re
from typing import Protocol

import pytest
import test_plugin_hooks
from dbt_braid import hookspecs
from dbt_braid.io import base
from helpers import REPO

DOC = (REPO / "docs" / "plugins.md").read_text()
HOOKS = sorted(
    name for name, fn in vars(hookspecs).items()
    if inspect.isfunction(fn) and hasattr(fn, "braid_spec")
)


#: the optional IO methods: every Protocol io/base.py defines but IOManager (load and store,
#: which every manager has, are documented under register_io_managers)
PROTOCOLS = sorted(
    (cls for cls in vars(base).values()
     if isinstance(cls, type) and cls.__module__ == base.__name__
     and Protocol in cls.__mro__[1:] and cls is not base.IOManager),
    key=lambda cls: cls.__name__,
)
OPTIONAL = re.search(r"^## IO managers' optional methods\n(.*?)(?=^## |\Z)", DOC, re.S | re.M)


def section(name: str, doc: str = DOC) -> str:
    match = re.search(rf"^### {name}\n(.*?)(?=^### |^## |\Z)", doc, re.S | re.M)
    assert match, f"docs/plugins.md has no '### {name}' section"
    return match.group(1)


def test_the_hooks_are_found() -> None:
    assert {"register_io_managers", "register_executors", "start_run", "before_dbt_node",
            "after_dbt_node",
            "before_dbt_batch", "after_dbt_batch", "before_python_asset", "after_python_asset",
            "write_artifacts", "record_run", "emit_lineage", "finish_run"} == set(HOOKS)


@pytest.mark.parametrize("name", HOOKS)
def test_hook_is_documented(name: str) -> None:
    text = section(name)
    args = list(inspect.signature(getattr(hookspecs, name)).parameters)
    assert f"def {name}({', '.join(args)}) -> None" in text, "signature missing or stale"
    for arg in args:
        assert re.search(rf"^- `{arg}`: \S", text, re.M), f"argument {arg} is not described"
    documented = re.findall(r"^- `(\w+)`:", text, re.M)
    assert documented == args, "described arguments differ from the spec's"
    example = re.search(r"Example:\n\n```python\n(.*?)```", text, re.S)
    assert example and "@hookimpl" in example.group(1) and f"def {name}(" in example.group(1)
    compile(example.group(1), f"docs/plugins.md:{name}", "exec")  # the example is Python


@pytest.mark.parametrize("name", HOOKS)
def test_hook_has_a_test_of_its_own(name: str) -> None:
    test = getattr(test_plugin_hooks, f"test_hook_{name}", None)
    assert callable(test), f"tests/test_plugin_hooks.py has no test_hook_{name}"
    assert name in inspect.getsource(test) or name.startswith("register_"), (
        f"test_hook_{name} does not look at the hook")


def methods_of(protocol: type) -> list[str]:
    return [name for name, value in vars(protocol).items()
            if callable(value) and not name.startswith("_")]


def test_the_optional_io_methods_are_found() -> None:
    found = {cls.__name__: methods_of(cls) for cls in PROTOCOLS}
    assert found == {"Queries": ["query"], "ArrowQueries": ["query_arrow"],
                     "Transactional": ["transaction"], "WindowReads": ["load_window"],
                     "WindowWrites": ["replace_window"], "ChecksTarget": ["check"],
                     "ChecksAvailability": ["check_available"], "Closable": ["close"]}


@pytest.mark.parametrize("protocol", PROTOCOLS, ids=lambda cls: cls.__name__)
def test_optional_io_method_is_documented(protocol: type) -> None:
    assert OPTIONAL, "docs/plugins.md has no '## IO managers' optional methods' section"
    (name,) = methods_of(protocol)  # one method per protocol: one capability each
    assert not isinstance(object(), protocol)  # a TypeError unless @runtime_checkable
    assert (protocol.__doc__ or "").strip(), "the protocol says not when braid calls it"
    text = section(name, OPTIONAL.group(1))
    assert f"Protocol `{protocol.__name__}`." in text, "the protocol is not named"
    args = list(inspect.signature(getattr(protocol, name)).parameters)
    assert args[0] == "self"
    assert re.search(rf"def {name}\({', '.join(args)}\) -> \S", text), (
        "signature missing or stale")
    documented = re.findall(r"^- `(\w+)`:", text, re.M)
    assert documented == args[1:], "described arguments differ from the protocol's"
    assert re.search(r"^When braid calls it: \S", text, re.M), "when braid calls it: missing"
    assert re.search(r"^Without it: \S", text, re.M), "what braid does without it: missing"
    example = re.search(r"Example:\n\n```python\n(.*?)```", text, re.S)
    assert example and f"def {name}(self" in example.group(1)
    compile(example.group(1), f"docs/plugins.md:{name}", "exec")  # the example is Python
