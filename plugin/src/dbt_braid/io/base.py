"""The IO manager interface and the registry built from the ``register_io_managers`` hook."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeGuard, TypeVar, runtime_checkable

from dbt_braid.core.assets import PythonAsset, Relation

T = TypeVar("T")


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


# ---- what a manager may do besides load and store --------------------------------------
# One protocol per optional method. braid asks ``supports(manager, Protocol)`` before it
# calls one, and does without it otherwise (docs/plugins.md, "Optional IO methods", says
# what each one is for; tests/unit/plugins/test_plugin_docs.py fails when one is not
# documented there).


@runtime_checkable
class Queries(Protocol):
    """Called on the ``table`` manager to read braid's history, each node's recent durations
    (planning), the catalog's column types and ``context.sql``; without it history is read
    through ``dbt show``, planning has no durations, the catalog shows no column types,
    ``--empty`` writes no empty tables and ``context.sql`` raises."""

    def query(self, sql: str) -> Any:
        """Run ``sql`` in the warehouse and return its rows as a pandas DataFrame."""


@runtime_checkable
class ArrowQueries(Protocol):
    """Called on the ``table`` manager for ``--empty``'s typed zero rows; without it braid
    uses ``query`` and takes the untyped columns as text."""

    def query_arrow(self, sql: str) -> Any:
        """Run ``sql`` and return its rows as a ``pyarrow.Table`` (types kept with no rows)."""


@runtime_checkable
class Transactional(Protocol):
    """Called on the ``table`` manager (with ``query``) to write history as the run goes;
    without both, the whole run is recorded at its end through ``dbt run-operation``."""

    def transaction(self, statements: Sequence[tuple[str, Sequence[Sequence[Any]]]]) -> None:
        """Run ``(sql, parameter rows)`` pairs in one transaction: all of them or none.
        ``sql`` uses ``?`` placeholders; a pair with no rows runs once without parameters."""


@runtime_checkable
class WindowReads(Protocol):
    """Called for a partitioned asset's input that has an event_time: only the window's rows
    are read; without it the input is read whole (``load``), and an empty window's result is
    written as returned rather than typed as the table."""

    def load_window(self, ref: StoredRef, annotation: Any, column: str, low: Any,
                    high: Any) -> Any:
        """The rows of ``ref`` whose ``column`` lies in ``[low, high)`` (naive UTC)."""


@runtime_checkable
class WindowWrites(Protocol):
    """Called for each window of a partitioned asset; without it an asset with
    ``meta.braid.partitions`` on this manager is refused before anything runs (exit 2)."""

    def replace_window(self, asset: PythonAsset, value: Any, column: str, window: Any) -> int:
        """Replace exactly ``window`` (of ``column``) with ``value``'s rows, atomically; the
        first write creates the table. Return the rows written."""


@runtime_checkable
class ChecksTarget(Protocol):
    """Called before anything runs on each manager the planned assets use; without it the
    manager is taken to work on any target."""

    def check(self) -> None:
        """Raise ``ValueError`` (one line: what is wrong, the fix) when this target cannot
        work; braid prints it after ``profiles.yml: target NAME:`` and exits 2."""


@runtime_checkable
class ChecksAvailability(Protocol):
    """Called on the ``table`` manager before anything runs, whatever the plan; without it
    a warehouse held by another process fails in the run's first dbt invocation."""

    def check_available(self) -> None:
        """Raise ``ValueError`` when the warehouse cannot be used now (another process holds
        it); braid prints it after ``profiles.yml: target NAME:`` and exits 2."""


@runtime_checkable
class Closable(Protocol):
    """Called once on every manager when the command is done with it; without it nothing is
    released."""

    def close(self) -> None:
        """Release what the manager holds (connections, files)."""


def supports(manager: object, capability: Callable[..., T]) -> TypeGuard[T]:
    """Whether ``manager`` has every method of ``capability`` (one of the protocols above;
    typed as a callable because a type checker takes no protocol for ``type[T]``).

    An attribute set to None counts as absent, as ``isinstance`` with a runtime protocol
    does; unlike that ``isinstance`` on Python 3.12+, a method a wrapper provides through
    ``__getattr__`` counts too.
    """
    methods = [name for name, value in vars(capability).items()
               if callable(value) and not name.startswith("_")]
    return all(getattr(manager, name, None) is not None for name in methods)


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


@contextmanager
def opened(registry: IORegistry, env: IOEnv) -> Iterator[dict[str, IOManager]]:
    """A command's IO managers, one per name, each closed when the block ends (however it
    ends): the one place braid opens and closes them."""
    managers = registry.build(env)
    try:
        yield managers
    finally:
        for manager in managers.values():
            if supports(manager, Closable):
                manager.close()


def collect_io_managers(pm: Any) -> IORegistry:
    registry = IORegistry()
    # get_hookimpls() lists built-ins first; each registration goes to the front of its
    # name's list, so a third-party plugin (registered later) wins for a shared name.
    for impl in pm.hook.register_io_managers.get_hookimpls():
        impl.function(register=registry.register)
    return registry
