"""The built-ins are plugins registered like any other."""

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
