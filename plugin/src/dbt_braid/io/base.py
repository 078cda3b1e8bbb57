"""The IO manager interface and the registry built from the ``register_io_managers`` hook."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from dbt_braid.assets import PythonAsset, Relation


@dataclass(frozen=True)
class IOEnv:
    """What an IO manager may know about the run."""

    project_dir: Path
    target: Mapping[str, Any]
    adapter_type: str
    credentials: Any = None
    run_id: str = ""


@dataclass(frozen=True)
class StoredRef:
    """An upstream value to load: a dbt node's or a Python asset's."""

    unique_id: str
    name: str
    package_name: str
    relation: Relation | None = None


def not_built(ref: StoredRef) -> LookupError:
    """The error a table manager raises for an input whose table is not there yet."""
    return LookupError(
        f"table {ref.relation} does not exist; build it first: braid run -s +{ref.name}"
    )


def is_missing_relation(exc: BaseException) -> bool:
    """Whether a warehouse error says the relation does not exist (the wording differs per
    warehouse: PostgreSQL, DuckDB's catalog error, others' "not found")."""
    text = str(exc).lower()
    return "does not exist" in text or "not found" in text or "catalog error" in text


class IOManager(Protocol):
    """Loads upstream values and stores an asset's result."""

    def load(self, ref: StoredRef, annotation: Any = None) -> Any:
        """The stored value of ``ref``, as ``annotation`` asks when the manager supports it."""

    def store(self, asset: PythonAsset, value: Any) -> int | None:
        """Store ``value`` atomically; return rows written where known."""


class QueryRunner(Protocol):
    def query(self, sql: str) -> Any:
        """Run SQL in the warehouse and return a pandas DataFrame."""


@dataclass(frozen=True)
class IORegistration:
    name: str
    factory: Callable[[IOEnv], IOManager | None]
    writes_table: bool = False


@dataclass
class IORegistry:
    """IO managers by name; later registrations of a name are tried first."""

    registrations: dict[str, list[IORegistration]] = field(default_factory=dict)

    def register(
        self, name: str, factory: Callable[[IOEnv], IOManager | None], writes_table: bool = False
    ) -> None:
        self.registrations.setdefault(name, []).insert(
            0, IORegistration(name, factory, writes_table)
        )

    def writes_table(self) -> dict[str, bool]:
        return {name: regs[0].writes_table for name, regs in self.registrations.items()}

    def build(self, env: IOEnv) -> dict[str, IOManager]:
        """One manager per name for this run: the first factory that accepts the warehouse."""
        managers: dict[str, IOManager] = {}
        for name, regs in self.registrations.items():
            for reg in regs:
                manager = reg.factory(env)
                if manager is not None:
                    managers[name] = manager
                    break
        return managers


def collect_io_managers(pm: Any) -> IORegistry:
    registry = IORegistry()
    # get_hookimpls() lists built-ins first; each registration goes to the front of its
    # name's list, so a third-party plugin (registered later) wins for a shared name.
    for impl in pm.hook.register_io_managers.get_hookimpls():
        impl.function(register=registry.register)
    return registry
