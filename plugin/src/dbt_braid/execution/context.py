"""The ``context`` argument a Python asset may ask for (SPEC §3)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dbt_braid.io.base import QueryRunner


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
    _warehouse: QueryRunner | None = field(default=None, repr=False)

    def sql(self, query: str) -> Any:
        """Run SQL in the target warehouse (the connection dbt's adapter uses); a DataFrame back."""
        if self._warehouse is None:
            raise RuntimeError(
                f"no SQL runner is registered for target type {self.target.get('type')!r}"
            )
        return self._warehouse.query(query)
