"""Built-in behaviour is pluggy plugins; a plugin registered beside them adds an IO manager."""

from __future__ import annotations

import json
from typing import Any

from dbt_braid import hookimpl
from dbt_braid.plugin_host import DEFAULT_PLUGINS, get_plugin_manager


def test_builtins_are_registered_plugins() -> None:
    pm = get_plugin_manager()
    names = {pm.get_name(p) for p in pm.get_plugins()}
    assert set(DEFAULT_PLUGINS) <= names
    impls = {i.plugin_name for i in pm.hook.register_io_managers.get_hookimpls()}
    assert {"dbt_braid.io.duckdb_table", "dbt_braid.io.pickle_store"} <= impls
    writers = {i.plugin_name for i in pm.hook.write_artifacts.get_hookimpls()}
    assert {"dbt_braid.builtins.run_results", "dbt_braid.builtins.lineage"} <= writers


class JsonLinesIO:
    """Stores an exposure asset's list of dicts as JSON lines, beside the project."""

    def __init__(self, root) -> None:
        self.root = root

    def load(self, ref: Any, annotation: Any = None) -> Any:
        path = self.root / f"{ref.name}.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()]

    def store(self, asset: Any, value: Any) -> int:
        path = self.root / f"{asset.name}.jsonl"
        path.write_text("".join(json.dumps(v) + "\n" for v in value))
        return len(value)


class JsonLinesPlugin:
    @hookimpl
    def register_io_managers(self, register):
        register("jsonl", lambda env: JsonLinesIO(env.project_dir))


def test_a_registered_plugin_adds_an_io_manager(make_project, capsys) -> None:
    from dbt_braid.cli import main

    project = make_project({
        "models/m.sql": "select 1 as id union all select 2",
        "models/exposures.yml": """
            version: 2
            exposures:
              - name: ids
                type: analysis
                owner: {name: me}
                depends_on: [ref('m')]
                config: {meta: {braid: {python: ids.collect, io: jsonl}}}
              - name: doubled
                type: analysis
                owner: {name: me}
                config: {meta: {braid: {python: ids.double, depends_on: [ids], io: jsonl}}}
            """,
        "python_assets/ids.py": """
            def collect(m):
                return [{"id": int(i)} for i in sorted(m["id"])]


            def double(ids):
                return [{"id": row["id"] * 2} for row in ids]
            """,
    })
    pm = get_plugin_manager()
    plugin = JsonLinesPlugin()
    pm.register(plugin, name="jsonl-test")
    try:
        code = main(["run", "--project-dir", str(project.root),
                     "--profiles-dir", str(project.root)])
    finally:
        pm.unregister(plugin)
    assert code == 0, capsys.readouterr()
    assert (project.root / "doubled.jsonl").read_text() == '{"id": 2}\n{"id": 4}\n'
    run = json.loads((project.root / "target/braid/run_results.json").read_text())
    assert {r["name"]: r["rows_written"] for r in run["results"]}["ids"] == 2


def test_without_the_plugin_its_io_name_is_a_declaration_error(make_project) -> None:
    project = make_project({
        "models/m.sql": "select 1 as id",
        "models/exposures.yml": """
            version: 2
            exposures:
              - name: ids
                type: analysis
                owner: {name: me}
                config: {meta: {braid: {python: ids.collect, io: jsonl}}}
            """,
        "python_assets/ids.py": "def collect():\n    return []\n",
    })
    done = project.braid("run")
    assert done.returncode == 2
    assert "meta.braid.io: unknown IO manager 'jsonl'" in done.stderr
