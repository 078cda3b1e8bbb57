"""The plugin boundary, read from the source (ast; nothing imported, no dbt).

Built-in plugins import the core, never the other way: no module outside ``builtins/``
imports ``dbt_braid.builtins`` (what both need lives in a core module: ``emit.lineage``,
``emit.openlineage``, ``emit.progress``), and no built-in plugin (``builtins/*`` and the
IO managers, as ``plugin_host.DEFAULT_PLUGINS`` lists them) imports ``cli`` or ``run.session``.
Imports inside functions count. The built-in IO managers' optional methods have the
signatures of ``io/base.py``'s protocols, which docs/plugins.md documents.
"""

from __future__ import annotations

import ast

from source_reading import PACKAGE, SOURCES, imports, within


def default_plugins() -> list[str]:
    """plugin_host.DEFAULT_PLUGINS, read from its source."""
    tree = ast.parse((PACKAGE / "plugin_host.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "DEFAULT_PLUGINS" for t in targets):
                assert isinstance(node.value, ast.Tuple | ast.List)
                return [str(ast.literal_eval(e)) for e in node.value.elts]
    raise AssertionError("plugin_host.py has no DEFAULT_PLUGINS")


def test_the_reader_sees_imports_inside_functions_and_from_imports() -> None:
    """The checks below could fail: the reader finds what they look for."""
    commands = {m for _, m in imports(PACKAGE / "cli" / "commands.py")}
    assert "dbt_braid.emit.openlineage" in commands  # imported inside cmd_lineage
    assert "dbt_braid.emit.lineage.lineage_payload" in commands
    lineage = {m for _, m in imports(PACKAGE / "builtins" / "lineage.py")}
    assert "dbt_braid.emit.lineage" in lineage and within("dbt_braid.builtins.artifacts",
                                                     "dbt_braid.builtins")
    assert not within("dbt_braid.builtinsx", "dbt_braid.builtins")


def test_no_core_module_imports_a_builtin_plugin() -> None:
    folder = PACKAGE / "builtins"
    found = [f"{path.relative_to(PACKAGE)}:{line}: {module}"
             for path in SOURCES if folder not in path.parents
             for line, module in imports(path) if within(module, "dbt_braid.builtins")]
    assert found == [], "core modules import built-in plugins (move what they share down)"


def test_built_in_plugins_never_import_the_cli_or_the_session() -> None:
    plugins = default_plugins()
    assert "dbt_braid.builtins.progress" in plugins and "dbt_braid.io.duckdb_table" in plugins
    files = {PACKAGE.parent.joinpath(*name.split(".")).with_suffix(".py") for name in plugins}
    files |= set((PACKAGE / "builtins").glob("*.py"))
    assert all(f.is_file() for f in files)
    found = [f"{path.relative_to(PACKAGE)}:{line}: {module}"
             for path in sorted(files) for line, module in imports(path)
             if within(module, "dbt_braid.cli") or within(module, "dbt_braid.run.session")]
    assert found == []


def protocol_methods() -> dict[str, list[str]]:
    """method -> its arguments, for each optional-method protocol of io/base.py."""
    tree = ast.parse((PACKAGE / "io" / "base.py").read_text())
    methods: dict[str, list[str]] = {}
    for cls in tree.body:
        if (isinstance(cls, ast.ClassDef) and cls.name != "IOManager"
                and any(isinstance(b, ast.Name) and b.id == "Protocol" for b in cls.bases)):
            for fn in cls.body:
                if isinstance(fn, ast.FunctionDef):
                    methods[fn.name] = [a.arg for a in fn.args.args]
    return methods


def test_built_in_io_managers_implement_the_protocols_signatures() -> None:
    expected = protocol_methods()
    assert {"query", "transaction", "load_window", "replace_window", "check_available",
            "close"} <= set(expected)
    seen: set[str] = set()
    for path in sorted((PACKAGE / "io").glob("*.py")):
        for cls in ast.parse(path.read_text()).body:
            if not isinstance(cls, ast.ClassDef):
                continue
            for fn in cls.body:
                if isinstance(fn, ast.FunctionDef) and fn.name in expected:
                    seen.add(fn.name)
                    assert [a.arg for a in fn.args.args] == expected[fn.name], (
                        f"{path.name}: {cls.name}.{fn.name} differs from io/base.py's protocol")
    assert seen == set(expected), "a protocol no built-in IO manager implements"
