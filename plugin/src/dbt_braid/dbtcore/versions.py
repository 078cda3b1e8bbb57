"""Which dbt-core is installed, which ones braid supports, and what differs between them.

braid uses more of dbt than its command line: ``dbtRunner``, the parsed manifest, the
``NodeSelector``, the ``Linker`` and the event stream. Those change between minor releases.
Every difference braid depends on is answered here, as a question about the installed dbt
("does its selector have the ``selector:`` method?"), so that no other module compares
versions. The tests run on each supported release (scripts/test.sh), and
``tests/e2e/test_dbt_versions.py`` checks each answer against the dbt it runs on.

Known differences, oldest first:

* 1.10 keeps a resource's top-level ``meta:`` and ``config: meta:`` apart; 1.11 copies one
  into the other. :func:`braid_meta` reads both, so either spelling works on every release.
* 1.11 adds user-defined functions (``manifest.functions``), graph members like models.
* 1.12 adds the ``selector:`` selection method (a selector of selectors.yml used inside
  ``-s``), which needs the project's selectors handed to ``NodeSelector``; and
  ``dbt ls --output json`` adds ``direct_parents`` to models.
* 1.12 requires ``dbt-core-experimental-parser`` for its opt-in ``--use-v2-parser``; braid
  does not use that parser (see tests/dbt_parser_standin).

Alike on all three (checked against 1.10.23, 1.11.16 and 1.12.6, whose event protos come
from ``dbt-protos``): ``LogStartLine``, ``LogModelResult`` and ``SkippingDetails`` take the
same fields, and a node's ``node_info`` has the same eleven keys (``node_checksum``
included). :mod:`.node_events` gives Python assets those events with only those fields.

This module imports nothing from dbt at import time: planning and graph code may use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any

#: the minor releases of dbt-core braid is tested on (plugin/pyproject.toml: >=1.10,<1.13)
SUPPORTED_MINORS: tuple[tuple[int, int], ...] = ((1, 10), (1, 11), (1, 12))

#: the manifest's collections of graph members, as dbt's Linker links them; a collection
#: the installed dbt lacks (``functions`` before 1.11) reads as empty
GRAPH_COLLECTIONS = (
    "nodes",
    "sources",
    "exposures",
    "metrics",
    "semantic_models",
    "saved_queries",
    "unit_tests",
    "functions",
)


@lru_cache(maxsize=1)
def dbt_version() -> str:
    """The installed dbt-core's version, e.g. ``1.12.6``."""
    try:
        return version("dbt-core")
    except PackageNotFoundError:  # pragma: no cover - braid depends on dbt-core
        return "not installed"


def dbt_minor() -> tuple[int, int]:
    parts = dbt_version().split(".")
    try:
        return int(parts[0]), int(parts[1])
    except (IndexError, ValueError):
        return (0, 0)


def supported_text() -> str:
    """``1.10, 1.11 and 1.12``."""
    names = [f"{a}.{b}" for a, b in SUPPORTED_MINORS]
    return ", ".join(names[:-1]) + " and " + names[-1]


def is_supported() -> bool:
    return dbt_minor() in SUPPORTED_MINORS


def version_lines() -> list[str]:
    """What ``braid --version`` adds to braid's own version."""
    lines = [f"dbt-core {dbt_version()} (braid supports dbt-core {supported_text()})"]
    if not is_supported():
        lines.append(f"warning: dbt-core {dbt_version()} is not a release braid is tested on")
    return lines


def graph_collection(manifest: Any, name: str) -> Mapping[str, Any]:
    """One of :data:`GRAPH_COLLECTIONS` of a manifest; empty where this dbt has none."""
    return getattr(manifest, name, None) or {}


def has_selector_method() -> bool:
    """dbt 1.12's ``selector:`` method: ``-s selector:nightly`` inside a selection."""
    return dbt_minor() >= (1, 12)


def node_selector_kwargs(selectors: Mapping[str, Any] | None) -> dict[str, Any]:
    """Extra keyword arguments for ``NodeSelector`` on this dbt (the ``selector:`` method's
    definitions, from ``RuntimeConfig.selectors``)."""
    return {"selectors": dict(selectors or {})} if has_selector_method() else {}


def ls_json(node: Any) -> dict[str, Any]:
    """A dbt node as ``dbt ls --output json`` prints it on this dbt (before ``--output-keys``)."""
    found: dict[str, Any] = node.to_dict(omit_none=False)
    if dbt_minor() >= (1, 12) and str(getattr(node.resource_type, "value", "")) == "model":
        # 1.12 strips direct_parents from the manifest but puts it back for ls; for a model of
        # the project it is the model's own refs (dbt's parser backfills it so)
        parents = getattr(node, "direct_parents", None) or node.depends_on.nodes
        found["direct_parents"] = list(parents)
    return found


def ls_default_keys() -> frozenset[str]:
    """The keys ``dbt ls --output json`` prints when no ``--output-keys`` are given."""
    from dbt.task.list import ListTask

    return frozenset(ListTask.ALLOWED_KEYS)


def braid_meta(resource: Any, key: str) -> Any:
    """The ``key`` block of a resource's ``meta`` and ``config.meta`` merged key by key,
    ``config.meta`` winning; ``None`` when neither has one, ``{}`` when one is empty (see the
    module docstring)."""
    config = getattr(resource, "config", None)
    return merge_meta(getattr(resource, "meta", None),
                      getattr(config, "meta", None) if config is not None else None, key)


def merge_meta(meta: Mapping[str, Any] | None, config_meta: Mapping[str, Any] | None,
               key: str) -> Any:
    present = key in (meta or {}) or key in (config_meta or {})
    top = (meta or {}).get(key)
    conf = (config_meta or {}).get(key)
    if top is None and conf is None:
        # ``braid:`` with nothing under it is a declaration missing its python:, which
        # validation reports, not "no declaration"
        return {} if present else None
    if top is None:
        return conf
    if conf is None:
        return top
    if isinstance(top, Mapping) and isinstance(conf, Mapping):
        return {**top, **conf}
    return conf
