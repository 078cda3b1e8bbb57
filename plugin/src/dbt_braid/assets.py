"""What a Python asset is once its declaration has been validated and resolved.

Kept free of dbt imports so that planning and its tests can build assets by hand.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Kind = Literal["source", "exposure"]


@dataclass(frozen=True)
class Relation:
    """Where a table lives in the warehouse (dbt's database.schema.identifier)."""

    database: str | None
    schema: str
    identifier: str

    def __str__(self) -> str:
        parts = [p for p in (self.database, self.schema, self.identifier) if p]
        return ".".join(parts)


@dataclass(frozen=True)
class PythonAsset:
    """A validated Python asset.

    ``inputs`` maps each keyword argument of the function to the unique_id of the node
    (dbt node or Python asset) whose value it receives.
    """

    name: str
    unique_id: str
    package_name: str
    kind: Kind
    declared_by: str
    yaml_file: str
    python: str
    module_file: str
    function: Callable[..., Any] = field(compare=False, repr=False)
    inputs: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)
    io: str = "table"
    tags: tuple[str, ...] = ()
    group: str | None = None
    description: str = ""
    owner: Mapping[str, Any] = field(default_factory=dict)
    relation: Relation | None = None
    source_name: str | None = None
    wants_context: bool = False
    #: a hash of the function's source, its python: path and its params (history, status)
    code_version: str = ""
    annotations: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def label(self) -> str:
        """The declaring resource as messages name it: ``source forecasting.predicted_orders``."""
        if self.kind == "source":
            return f"source {self.source_name}.{self.name}"
        return f"exposure {self.name}"

    @property
    def depends_on(self) -> tuple[str, ...]:
        """Upstream unique_ids, deduplicated, in declaration order."""
        return tuple(dict.fromkeys(self.inputs.values()))


def python_unique_id(package_name: str, name: str) -> str:
    """A Python asset's unique_id (SPEC §5): ``python.<package>.<name>``."""
    return f"python.{package_name}.{name}"


def code_version(function: Callable[..., Any], python: str, params: Mapping[str, Any]) -> str:
    """What must change for an asset to count as changed: its code, its path, its params.

    The code is the whole module the function lives in, so editing a helper beside it
    counts too (helpers imported from other modules do not).
    """
    try:
        file = inspect.getsourcefile(function)
        source = Path(file).read_text(encoding="utf-8") if file else inspect.getsource(function)
    except (OSError, TypeError):
        source = getattr(function, "__qualname__", repr(function))
    payload = json.dumps([python, source, params], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()
