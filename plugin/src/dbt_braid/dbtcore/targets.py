"""A Python-written table belongs to its target.

dbt models take a per-target schema (``target.schema``), so ``dbt run -t ci`` never touches
the tables of ``dev``. A source is different: its ``schema:`` is whatever the YAML says, and a
plain ``schema: forecasting`` resolves to the same relation on every target that shares a
warehouse. A Python asset writing such a source on a non-default target would replace the
default target's table. So before anything runs, braid works out where each planned
source-table asset would write under the profile's *default* target (rendering the source's
own YAML with that target) and refuses, with one line per table, when that is the very
relation this run would write. The fix is the models' pattern, e.g.
``schema: "{{ target.schema }}_forecasting"``; ``--allow-shared-tables`` overrides.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from dbt_braid.core.assets import PythonAsset, Relation
from dbt_braid.core.errors import BraidUserError, Problem


def _default_profile(config: Any) -> Any:
    """The profile of this project rendered for its default target."""
    from dbt.config.profile import Profile, read_profile
    from dbt.config.renderer import ProfileRenderer
    from dbt.flags import get_flags

    raw = read_profile(str(get_flags().PROFILES_DIR))
    renderer = ProfileRenderer(getattr(config, "cli_vars", None) or {})
    return Profile.from_raw_profiles(raw, config.profile_name, renderer)


def _location(target: Mapping[str, Any], root: Path) -> tuple[Any, ...]:
    """What makes two targets the same warehouse: a DuckDB file, else host, port and
    database."""
    if target.get("type") == "duckdb":
        path = str(target.get("path") or ":memory:")
        if path != ":memory:" and "://" not in path and not path.startswith("md:"):
            path = os.path.realpath(root / path)
        return ("duckdb", path)
    return (target.get("type"), target.get("host"), target.get("port"),
            str(target.get("database") or target.get("dbname") or "").lower())


def _raw_source(root: Path, yaml_file: str, source_name: str, table: str) -> dict[str, Any]:
    """database/schema/identifier of a source table as written in its YAML (unrendered)."""
    try:
        data = yaml.safe_load((root / yaml_file).read_text()) or {}
    except (OSError, yaml.YAMLError):
        return {}
    for source in data.get("sources") or []:
        if source.get("name") != source_name:
            continue
        found = {"database": source.get("database"), "schema": source.get("schema")}
        for entry in source.get("tables") or []:
            if entry.get("name") == table:
                found["identifier"] = entry.get("identifier")
        return found
    return {}


def _render(text: Any, context: Mapping[str, Any]) -> str | None:
    if text is None:
        return None
    from dbt.clients.jinja import get_rendered

    return str(get_rendered(str(text), dict(context)))


def default_target_relation(
    asset: PythonAsset, package_root: Path, config: Any, target: Mapping[str, Any]
) -> Relation:
    """Where ``asset``'s source table resolves under ``target`` (a target dict)."""
    from dbt.context.base import generate_base_context

    raw = _raw_source(package_root, asset.yaml_file, str(asset.source_name), asset.name)
    context = {**generate_base_context(getattr(config, "cli_vars", None) or {}),
               "target": dict(target)}
    database = _render(raw.get("database"), context) or target.get("database")
    schema = _render(raw.get("schema"), context) or str(asset.source_name)
    identifier = _render(raw.get("identifier"), context) or asset.name
    return Relation(database, schema, identifier)


def check_target_owns_tables(
    assets: Iterable[PythonAsset], config: Any, package_roots: Mapping[str, Path]
) -> None:
    """Refuse (exit 2) to write a table the profile's default target also resolves to."""
    writers = [a for a in assets if a.relation is not None and a.source_name is not None]
    if not writers:
        return
    default = _default_profile(config)
    if default.target_name == config.target_name:
        return
    root = Path(config.project_root)
    theirs = default.to_target_dict()
    mine = config.to_target_dict()
    if _location(theirs, root) != _location(mine, root):
        return
    problems = []
    for asset in writers:
        other = default_target_relation(
            asset, package_roots.get(asset.package_name, root), config, theirs)
        this = asset.relation
        assert this is not None
        if (str(other.schema).lower(), str(other.identifier).lower()) != (
            str(this.schema).lower(), str(this.identifier).lower()
        ):
            continue
        problems.append(Problem(
            asset.yaml_file, f"source {asset.source_name}.{asset.name}", "schema",
            f"target {config.target_name!r} would write {this}, the table the default "
            f"target {default.target_name!r} uses; give the source a per-target schema, "
            f"e.g. schema: \"{{{{ target.schema }}}}_{asset.source_name}\", or pass "
            "--allow-shared-tables",
        ))
    if problems:
        raise BraidUserError(problems)
