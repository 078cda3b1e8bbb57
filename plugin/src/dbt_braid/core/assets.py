"""What a Python asset is once its declaration has been validated and resolved.

Kept free of dbt imports so that planning and its tests can build assets by hand.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from dbt_braid.core.loader import FunctionRef
from dbt_braid.core.windows import PartitionSpec

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
class RetryPolicy:
    """``meta.braid.retries``: ``count`` more attempts after a failure, the n-th waiting
    ``delay * backoff ** (n - 1)`` seconds."""

    count: int = 0
    delay: float = 0.0
    backoff: float = 1.0

    def wait(self, retry: int) -> float:
        """Seconds before retry number ``retry`` (1 for the first)."""
        return float(self.delay * self.backoff ** (retry - 1))


@dataclass(frozen=True)
class PythonAsset:
    """A validated Python asset.

    ``inputs`` maps each keyword argument of the function to the unique_id of the node
    (dbt node or Python asset) whose value it receives. The function itself is imported only
    when first used (:attr:`function`): commands that run no Python import no user module.
    """

    name: str
    unique_id: str
    package_name: str
    kind: Kind
    declared_by: str
    yaml_file: str
    python: str
    module_file: str
    function_ref: FunctionRef = field(compare=False, repr=False)
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
    #: a hash of the function's source and the helpers it uses, its python: path and its
    #: params (history, status, state:modified; dbt_braid.declare.code_version)
    code_version: str = ""
    #: the dbt vars the function (and the helpers it reaches) reads; None: any of them. Their
    #: values are part of ``code_version`` once a command has mixed them in
    vars_read: frozenset[str] | None = frozenset()
    #: seconds one attempt may take (``meta.braid.timeout``); None: no limit
    timeout: float | None = None
    retries: RetryPolicy = field(default_factory=RetryPolicy)
    #: ``meta.braid.freshness`` (``{build_after: {count, period}}``), when declared
    freshness: Mapping[str, Any] = field(default_factory=dict)
    #: ``meta.braid.partitions``: the asset computes and replaces one window at a time
    partitions: PartitionSpec | None = None

    @property
    def function(self) -> Callable[..., Any]:
        """The user's function, imported on first use (raises ``AssetImportError``)."""
        return self.function_ref.load()

    @property
    def annotations(self) -> Mapping[str, Any]:
        """Parameter annotations of the imported function (the IO managers read them)."""
        return self.function_ref.annotations()

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


_SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*")


def safe_name(name: str) -> bool:
    """A Python asset's name is a file name in the pickle store: one path part, no
    separators, no ``..``, not hidden."""
    return bool(_SAFE_NAME.fullmatch(name)) and ".." not in name
