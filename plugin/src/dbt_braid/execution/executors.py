"""Executors for Python assets, contributed through the ``register_executors`` hook.

An executor is a :class:`concurrent.futures.Executor` made for one run by a factory that
gets the run's ``--threads`` (and, as keywords, its section of ``braid.yml``'s
``executor:``). Which one a run uses is ``braid run --executor NAME`` (``threads``, the
built-in thread pool, by default).

Two kinds. An in-process executor (``threads``) is given each Python asset's whole work:
load the inputs, call, store. A *remote* one (its ``remote`` attribute true: the built-in
``processes`` and ``dask``) is given only the call, as a picklable task
(:mod:`dbt_braid.execution.compute`); the loading and storing stay in this process, on a
thread pool of ``--threads`` that :class:`WithCompute` puts in front of it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dbt_braid.core.errors import BraidUserError

DEFAULT_EXECUTOR = "threads"

ExecutorFactory = Callable[..., Executor]


def is_remote(executor: Executor) -> bool:
    """Whether ``executor`` runs calls elsewhere (it is given :func:`compute.run_task`)."""
    return bool(getattr(executor, "remote", False))


class WithCompute(Executor):
    """Threads that load and store in this process, in front of a remote executor that
    computes; shutting it down shuts down both (the remote one first when not waiting, so
    that threads waiting on a worker are released)."""

    def __init__(self, threads: int, compute: Executor) -> None:
        self.local = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="braid-py")
        self.compute = compute

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        return self.local.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if wait:
            self.local.shutdown(wait=True, cancel_futures=cancel_futures)
            self.compute.shutdown(wait=True, cancel_futures=cancel_futures)
        else:
            self.compute.shutdown(wait=False, cancel_futures=True)
            self.local.shutdown(wait=False, cancel_futures=True)


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

    def make(self, name: str, threads: int, options: Mapping[str, Any] | None = None
             ) -> Executor:
        """The run's executor; ``options`` (braid.yml's ``executor.<name>`` and the flags
        for it) go to the factory as keywords."""
        self.check(name)
        try:
            return self.factories[name](max(1, threads), **dict(options or {}))
        except TypeError as exc:
            if not options:
                raise
            raise BraidUserError(
                f"braid.yml executor.{name}: {', '.join(sorted(options))}: the {name} executor "
                f"does not take these ({exc})") from None


def collect_executors(pm: Any) -> ExecutorRegistry:
    registry = ExecutorRegistry()
    # built-ins are listed first, so a third-party plugin's registration of a name wins
    for impl in pm.hook.register_executors.get_hookimpls():
        impl.function(register=registry.register)
    return registry


def chosen_executor(request: Any, project_root: Path) -> tuple[str, dict[str, Any]]:
    """The run's executor and its options: ``--executor``, else braid.yml's ``executor``,
    else ``threads``; braid.yml's settings for it, ``--dask-address`` over them."""
    from dbt_braid.schedules.config import executor_setting

    configured, settings = executor_setting(project_root)
    name = request.executor or configured or DEFAULT_EXECUTOR
    if request.executor_options and name != "dask":
        raise BraidUserError("--dask-address is for --executor dask; add --executor dask or "
                             "drop --dask-address")
    options = dict(settings) if name == configured else {}
    return name, {**options, **request.executor_options}


def make_executor(registry: ExecutorRegistry, name: str, options: Mapping[str, Any],
                  threads: int, plan: Any) -> Executor | None:
    """The run's executor, made before anything runs (a Dask scheduler that cannot be
    reached is a usage error then, not a failure halfway); None when the plan has no Python
    asset to give it."""
    if not plan.python:
        return None
    return registry.make(name, threads, options)


def warm_up(request: Any, project_dir: str | None) -> None:
    """Start the chosen executor's slow part (worker processes, a cluster) on a thread of its
    own while dbt parses: a factory with a ``prestart(**options)`` gets it called. Anything
    wrong here (an unknown name, a bad braid.yml) is said later, where the run checks it."""
    import threading

    from dbt_braid.plugin_host import get_plugin_manager

    try:
        name, options = chosen_executor(request, Path(project_dir or "."))
        if name == DEFAULT_EXECUTOR:
            return  # threads need no warming up (and plugins load where they always did)
        factory = collect_executors(get_plugin_manager()).factories.get(name)
    except Exception:  # noqa: BLE001 - reported where the run checks the same things
        return
    prestart = getattr(factory, "prestart", None)
    if callable(prestart):
        threading.Thread(target=prestart, kwargs=options, name="braid-executor-warm-up",
                         daemon=True).start()
