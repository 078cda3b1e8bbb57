"""The plugin manager: built-in plugins first, then third-party ones from entry points.

Built-ins are plain modules listed in :data:`DEFAULT_PLUGINS`; they use the same hooks a
third-party plugin would. Third-party plugins load once, lazily (on the first
:func:`get_plugin_manager` call, not when ``braid`` starts), from the ``braid`` entry-point
group. ``BRAID_LOAD_PLUGINS`` (a comma list of distribution or entry-point names; empty
means none) limits which. A plugin that fails to import is reported with its name and
version and the run goes on without it; a plugin implementing a hook braid does not have
(a misspelling) is an error, since its author expects it to be called.

A plugin replaces a built-in outright by naming it in a ``braid_replaces`` attribute
(e.g. ``braid_replaces = ["dbt_braid.builtins.run_results"]``); registries (IO managers,
executors) need no such thing: a later registration of a name wins.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata
import os
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

import pluggy

from dbt_braid import console, hookspecs
from dbt_braid.core.errors import BraidUserError

DEFAULT_PLUGINS = (
    # the generic table IO first: a later registration of a name is tried before it
    "dbt_braid.io.generic_table",
    "dbt_braid.io.duckdb_table",
    "dbt_braid.io.postgres_table",
    "dbt_braid.io.pickle_store",
    "dbt_braid.builtins.thread_pool",
    "dbt_braid.builtins.process_pool",
    "dbt_braid.builtins.dask_executor",
    "dbt_braid.builtins.run_results",
    "dbt_braid.builtins.lineage",
    "dbt_braid.builtins.history",
    "dbt_braid.builtins.openlineage",
    "dbt_braid.builtins.openlineage_live",
    "dbt_braid.builtins.progress",
)

ENTRY_POINT_GROUP = "braid"


@dataclass(frozen=True)
class PluginInfo:
    """One plugin as ``braid plugins`` shows it."""

    name: str
    hooks: tuple[str, ...]
    builtin: bool
    distribution: str | None = None
    version: str | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "hooks": list(self.hooks), "builtin": self.builtin,
                "distribution": self.distribution, "version": self.version,
                "error": self.error}


def _normal(name: str) -> str:
    """Distribution names compare as PyPI compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _wanted() -> set[str] | None:
    value = os.environ.get("BRAID_LOAD_PLUGINS")
    if value is None:
        return None
    return {_normal(part.strip()) for part in value.split(",") if part.strip()}


class BraidPluginManager(pluggy.PluginManager):
    """pluggy's manager, remembering where third-party plugins came from and which failed."""

    def __init__(self) -> None:
        super().__init__("braid")
        self.origins: dict[str, tuple[str | None, str | None]] = {}
        self.failed: list[PluginInfo] = []

    def describe(self) -> list[PluginInfo]:
        """Registered plugins (built-ins first), then those that failed to load."""
        out = []
        for name, plugin in self.list_name_plugin():
            hooks = tuple(sorted(h.name for h in self.get_hookcallers(plugin) or []))
            dist, version = self.origins.get(name, (None, None))
            out.append(PluginInfo(name, hooks, name in DEFAULT_PLUGINS, dist, version))
        return out + self.failed


def _load_entry_points(pm: BraidPluginManager) -> None:
    wanted = _wanted()
    replaced: list[tuple[str, str]] = []
    for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(entry, "dist", None)
        dist_name = dist.metadata["Name"] if dist is not None else None
        version = dist.version if dist is not None else None
        if wanted is not None and not ({_normal(entry.name), _normal(dist_name or "")} & wanted):
            continue
        if pm.has_plugin(entry.name):
            continue
        label = f"{dist_name or entry.name} {version or '(version unknown)'}"
        try:
            plugin = entry.load()
        except Exception as exc:  # a broken plugin must not take braid down
            message = f"{type(exc).__name__}: {exc}"
            console.say(f"braid: plugin {label} (entry point {entry.name!r}) failed to load: "
                        f"{message}; running without it", err=True)
            pm.failed.append(PluginInfo(entry.name, (), False, dist_name, version, message))
            continue
        try:
            pm.register(plugin, name=entry.name)
        except pluggy.PluginValidationError as exc:
            raise BraidUserError(f"braid plugin {label}: {exc}; fix the plugin or uninstall "
                                 f"it (pip uninstall {dist_name or entry.name})") from None
        pm.origins[entry.name] = (dist_name, version)
        for builtin in getattr(plugin, "braid_replaces", ()) or ():
            replaced.append((builtin, label))
    for builtin, label in replaced:
        if builtin not in DEFAULT_PLUGINS:
            raise BraidUserError(f"braid plugin {label}: braid_replaces names {builtin!r}, which "
                                 f"is not a built-in plugin; built-ins: "
                                 f"{', '.join(DEFAULT_PLUGINS)}")
        if pm.has_plugin(builtin):
            pm.unregister(name=builtin)


def _check_pending(pm: BraidPluginManager) -> None:
    """A hook implementation braid has no spec for is an error naming plugin and hook."""
    callers = {n: c for n, c in vars(pm.hook).items() if isinstance(c, pluggy.HookCaller)}
    known = sorted(n for n, c in callers.items() if c.spec is not None)
    problems = []
    for name, caller in callers.items():
        if caller.spec is not None:
            continue
        for impl in caller.get_hookimpls():
            if getattr(impl, "optionalhook", False):
                continue
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"hooks: {', '.join(known)}"
            dist, version = pm.origins.get(impl.plugin_name, (None, None))
            who = f"{dist} {version}" if dist else impl.plugin_name
            problems.append(f"braid plugin {who}: implements {name!r}, which is not a braid "
                            f"hook; {hint}")
    if problems:
        raise BraidUserError(problems)


@cache
def get_plugin_manager() -> BraidPluginManager:
    """The process-wide plugin manager, built on first use."""
    pm = BraidPluginManager()
    pm.add_hookspecs(hookspecs)
    for name in DEFAULT_PLUGINS:
        pm.register(importlib.import_module(name), name=name)
    _load_entry_points(pm)
    _check_pending(pm)
    return pm
