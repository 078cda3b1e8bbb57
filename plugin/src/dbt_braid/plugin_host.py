"""The plugin manager: built-in plugins first, then third-party ones from entry points.

Built-ins are plain modules listed in :data:`DEFAULT_PLUGINS`; they use the same hooks a
third-party plugin would. Third-party plugins load once, lazily, from the ``braid``
entry-point group; one that fails to import is reported with its name and version and the
run goes on without it.
"""

from __future__ import annotations

import importlib
import logging
from functools import cache

import pluggy

from dbt_braid import hookspecs

log = logging.getLogger("braid")

DEFAULT_PLUGINS = (
    # the generic table IO first: a later registration of a name is tried before it
    "dbt_braid.io.generic_table",
    "dbt_braid.io.duckdb_table",
    "dbt_braid.io.postgres_table",
    "dbt_braid.io.pickle_store",
    "dbt_braid.builtins.run_results",
    "dbt_braid.builtins.lineage",
    "dbt_braid.builtins.history",
    "dbt_braid.builtins.openlineage",
)


@cache
def get_plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager, built on first use."""
    pm = pluggy.PluginManager("braid")
    pm.add_hookspecs(hookspecs)
    for name in DEFAULT_PLUGINS:
        pm.register(importlib.import_module(name), name=name)
    try:
        pm.load_setuptools_entrypoints("braid")
    except Exception as exc:  # a broken third-party plugin must not take braid down
        log.warning("a braid plugin failed to load: %s: %s", type(exc).__name__, exc)
    pm.check_pending()
    return pm
