"""The ``context`` argument a Python asset may ask for (SPEC §3).

Import it for type hints as ``from dbt_braid import AssetContext``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dbt_braid.core.windows import Window
from dbt_braid.io.base import Queries


@dataclass(frozen=True)
class RunFlags:
    """The dbt flags of the run, as an asset may want to honour them."""

    full_refresh: bool = False
    empty: bool = False
    #: the target's name (``-t``), e.g. ``dev`` or ``ci``
    target: str | None = None
    #: ``run`` or ``build``
    command: str = "run"


@dataclass(frozen=True)
class AssetContext:
    """What a running asset may know and do beyond its inputs."""

    name: str
    unique_id: str
    run_id: str
    log: logging.Logger
    params: Mapping[str, Any]
    #: the dbt target: name, type, database, schema, threads
    target: Mapping[str, Any]
    #: the root dbt project's folder (relative paths in params are relative to it)
    project_dir: Path
    #: dbt's ``var()`` as a model of the asset's package sees it: the project's vars, the
    #: package-scoped ones over them, ``--vars`` over both
    vars: Mapping[str, Any] = field(default_factory=dict)
    #: the run's flags: ``full_refresh``, ``empty``, ``target`` (name), ``command``
    flags: RunFlags = field(default_factory=lambda: RunFlags())
    #: a partitioned asset's window (``start``, ``end``: aware UTC datetimes, ``[start,
    #: end)``; ``key``: ``2026-01-31``); None for an asset without partitions
    partition: Window | None = None
    _warehouse: Queries | None = field(default=None, repr=False)
    #: ("ref", name) or ("source", "src.table") -> the relation as the target quotes it
    _relations: Callable[[str, str], str | None] = field(
        default=lambda kind, name: None, repr=False
    )
    #: what add_metadata collected; the runner keeps it with the asset's result
    _metadata: dict[str, Any] = field(default_factory=dict, repr=False)

    def add_metadata(self, values: Mapping[str, Any] | None = None, /, **more: Any) -> None:
        """Attach values to this materialization: numbers, text, URLs, booleans (or lists
        and mappings of them). They are kept in braid's history and shown, the numbers
        plotted over time, on the asset's catalog page. A later value replaces an earlier
        one of the same name."""
        import json

        for key, value in {**dict(values or {}), **more}.items():
            try:
                json.dumps(value, allow_nan=False)
            except (TypeError, ValueError):
                raise TypeError(
                    f"context.add_metadata({key}=...): {type(value).__name__} is not a "
                    "number, text, boolean, or a list or mapping of them") from None
            self._metadata[str(key)] = value

    def ref(self, name: str) -> str:
        """The relation of a dbt model, seed or snapshot, quoted for the target's SQL, as
        ``{{ ref(name) }}`` renders in a model: ``context.sql(f"select * from {...}")``."""
        found = self._relations("ref", name)
        if found is None:
            raise KeyError(f"context.ref({name!r}): no model, seed or snapshot named {name!r}")
        return found

    def source(self, source_name: str, table_name: str) -> str:
        """The relation of a source table (Python-written ones too), quoted for the target."""
        found = self._relations("source", f"{source_name}.{table_name}")
        if found is None:
            raise KeyError(f"context.source({source_name!r}, {table_name!r}): no such source")
        return found

    def sql(self, query: str) -> Any:
        """Run SQL in the target warehouse (the connection dbt's adapter uses); a DataFrame back."""
        if self._warehouse is None:
            raise RuntimeError(
                f"no SQL runner is registered for target type {self.target.get('type')!r}"
            )
        return self._warehouse.query(query)
