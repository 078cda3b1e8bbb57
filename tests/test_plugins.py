"""Built-in behaviour is pluggy plugins (hooks: test_plugin_hooks.py; entry points:
test_plugin_loading.py)."""

from __future__ import annotations

from dbt_braid.plugin_host import DEFAULT_PLUGINS, get_plugin_manager


def test_builtins_are_registered_plugins() -> None:
    pm = get_plugin_manager()
    names = {pm.get_name(p) for p in pm.get_plugins()}
    assert set(DEFAULT_PLUGINS) <= names
    impls = {i.plugin_name for i in pm.hook.register_io_managers.get_hookimpls()}
    assert {"dbt_braid.io.duckdb_table", "dbt_braid.io.postgres_table",
            "dbt_braid.io.generic_table", "dbt_braid.io.pickle_store"} <= impls
    executors = {i.plugin_name for i in pm.hook.register_executors.get_hookimpls()}
    assert executors == {"dbt_braid.builtins.thread_pool", "dbt_braid.builtins.process_pool",
                         "dbt_braid.builtins.dask_executor"}
    enders = {i.plugin_name for i in pm.hook.record_run.get_hookimpls()}
    enders |= {i.plugin_name for i in pm.hook.emit_lineage.get_hookimpls()}
    assert enders == {"dbt_braid.builtins.history", "dbt_braid.builtins.openlineage"}
    writers = {i.plugin_name for i in pm.hook.write_artifacts.get_hookimpls()}
    assert {"dbt_braid.builtins.run_results", "dbt_braid.builtins.lineage"} <= writers


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
