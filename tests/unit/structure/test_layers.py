"""The layers of ARCHITECTURE.md, read from the source (ast; no dbt, nothing run).

No loop between the top-level parts of ``dbt_braid`` (a folder or a top-level module),
counting every import: inside functions and under ``TYPE_CHECKING`` too, since a lazy
import of braid's own module is still a dependency. ``lint-imports`` (the test command)
checks the order of the layers; this test keeps the quick tier failing on a loop, names the
imports that close it, and checks that the contract names every part. Functions stay under
80 lines and modules under 400.
"""

from __future__ import annotations

import ast
from collections import defaultdict

import networkx as nx
from helpers import REPO
from source_reading import PACKAGE, SOURCES, imports, module_name

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: import-linter brings tomli
    import tomli as tomllib

MAX_FUNCTION = 80
MAX_MODULE = 400


def part_of(module: str) -> str | None:
    """The top-level part a dotted name belongs to (None: the package itself, or a name
    that is no module of braid's, such as ``dbt_braid.hookimpl``)."""
    names = module.split(".")
    if names[0] != "dbt_braid" or len(names) < 2:
        return None
    part = names[1]
    if (PACKAGE / part).is_dir() or (PACKAGE / f"{part}.py").is_file():
        return part
    return None


def part_imports() -> dict[tuple[str, str], list[str]]:
    """(importing part, imported part) -> the imports that make the edge, as file:line."""
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in SOURCES:
        here = part_of(module_name(path))
        for line, module in imports(path):
            there = part_of(module)
            if here and there and here != there:
                edges[here, there].append(f"{path.relative_to(PACKAGE)}:{line} {module}")
    return edges


def loops(edges: dict[tuple[str, str], list[str]]) -> list[list[str]]:
    """Each set of parts that import each other round in a circle, as sorted names."""
    graph = nx.DiGraph(list(edges))
    return sorted(sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1)


def test_no_loop_between_top_level_parts() -> None:
    edges = part_imports()
    found = loops(edges)
    detail = [f"{a} -> {b}: {'; '.join(edges[a, b][:3])}"
              for loop in found for a in loop for b in loop if (a, b) in edges]
    assert found == [], "parts importing each other in a loop:\n" + "\n".join(detail)


def test_the_loop_check_sees_lazy_imports_and_finds_a_loop() -> None:
    # run.finish imports dbtcore.artifacts inside a function: that edge is seen
    assert any("run/finish.py" in where for where in part_imports()["run", "dbtcore"])
    # and one upward import would close a circle that the check names
    edges = {**part_imports(), ("core", "run"): ["core/x.py:1 dbt_braid.run"]}
    assert any({"core", "run"} <= set(loop) for loop in loops(edges))


def contract_layers() -> list[str]:
    config = tomllib.loads((REPO / "plugin" / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    layers = next(c["layers"] for c in contracts if c["type"] == "layers")
    return [name.strip().removeprefix("dbt_braid.") for layer in layers
            for name in layer.split("|")]


def test_the_layers_contract_names_every_part() -> None:
    parts = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    parts |= {p.stem for p in PACKAGE.glob("*.py") if p.stem not in ("__init__", "__main__")}
    parts -= {"schemas"}  # JSON files only
    named = contract_layers()
    assert sorted(parts - set(named)) == []
    assert len(named) == len(set(named))


def test_functions_and_modules_stay_small() -> None:
    long_functions = []
    long_modules = []
    for path in SOURCES:
        text = path.read_text()
        where = path.relative_to(PACKAGE)
        if len(text.splitlines()) > MAX_MODULE:
            long_modules.append(f"{where}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                size = (node.end_lineno or node.lineno) - node.lineno + 1
                if size > MAX_FUNCTION:
                    long_functions.append(f"{where}::{node.name}: {size} lines")
    assert long_modules == []
    assert long_functions == []
