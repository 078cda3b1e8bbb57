"""docs/plugins.md documents every hook, and every hook has a test of its own.

A hook added to dbt_braid.hookspecs without a section in the docs (heading, signature with
the spec's arguments, one line per argument, an example) or without a
``test_hook_<name>`` in tests/test_plugin_hooks.py fails here.
"""

from __future__ import annotations

import inspect
import re

import pytest
import test_plugin_hooks
from conftest import REPO
from dbt_braid import hookspecs

DOC = (REPO / "docs" / "plugins.md").read_text()
HOOKS = sorted(
    name for name, fn in vars(hookspecs).items()
    if inspect.isfunction(fn) and hasattr(fn, "braid_spec")
)


def section(name: str) -> str:
    match = re.search(rf"^### {name}\n(.*?)(?=^### |^## |\Z)", DOC, re.S | re.M)
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
