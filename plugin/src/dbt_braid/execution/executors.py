"""Executors for Python assets, contributed through the ``register_executors`` hook.

An executor is a :class:`concurrent.futures.Executor` made for one run by a factory that
gets the run's ``--threads``. The engine submits each Python asset's work to it and shuts
it down at the end; which one a run uses is ``braid run --executor NAME`` (``threads``, the
built-in thread pool, by default).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

from dbt_braid.errors import BraidUserError

DEFAULT_EXECUTOR = "threads"

ExecutorFactory = Callable[[int], Executor]


@dataclass
class ExecutorRegistry:
    """Executor factories by name; a later registration of a name replaces an earlier one."""

    factories: dict[str, ExecutorFactory] = field(default_factory=dict)

    def register(self, name: str, factory: ExecutorFactory) -> None:
        self.factories[name] = factory

    def check(self, name: str) -> None:
        """An unknown executor is a usage error, raised before anything runs."""
        if name not in self.factories:
            raise BraidUserError(
                f"--executor: unknown executor {name!r}; registered: "
                f"{', '.join(sorted(self.factories))} (executors come from braid plugins)"
            )

    def make(self, name: str, threads: int) -> Executor:
        self.check(name)
        return self.factories[name](max(1, threads))


def collect_executors(pm: Any) -> ExecutorRegistry:
    registry = ExecutorRegistry()
    # built-ins are listed first, so a third-party plugin's registration of a name wins
    for impl in pm.hook.register_executors.get_hookimpls():
        impl.function(register=registry.register)
    return registry
