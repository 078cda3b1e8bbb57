"""What the catalog knows of each node, gathered from the places that know it.

The manifest (descriptions, owners, columns as documented, raw SQL, the YAML file), the
declarations (a Python asset's function, read from its module's source without importing
it, and its ``meta.braid`` block), dbt's last ``run_results.json`` (compiled SQL), the
warehouse's ``information_schema`` (each table's columns with their types) and braid's
history (freshness, materializations, runs, a partitioned asset's windows).
:mod:`dbt_braid.catalog.model` shapes it.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from dbt_braid import console
from dbt_braid.catalog.model import catalog_data
from dbt_braid.declare.source import source_text
from dbt_braid.emit.lineage import SKIPPED_TYPES
from dbt_braid.history import queries
from dbt_braid.history.status import NodeStatus
from dbt_braid.io.base import Queries, opened, supports
from dbt_braid.run.session import Loaded


def _owner(value: Any) -> dict[str, Any] | None:
    if not value:
        return None
    if isinstance(value, Mapping):
        return {k: v for k, v in value.items() if v} or None
    found = {k: getattr(value, k, None) for k in ("name", "email")}
    return {k: v for k, v in found.items() if v} or None


def function_source(module_file: Path, function: str) -> str | None:
    """The text of ``def function`` in ``module_file`` (decorators included), or None."""
    try:
        text = source_text(module_file)
        tree = ast.parse(text)
    except (OSError, SyntaxError, ValueError):
        return None
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == function:
            lines = text.splitlines()
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1
            return "\n".join(lines[first:node.end_lineno]) + "\n"
    return None


def compiled_sql(target_dir: Path) -> dict[str, str]:
    """unique_id -> compiled SQL from dbt's last run_results.json (empty when none)."""
    try:
        results = json.loads((target_dir / "run_results.json").read_text())["results"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return {r["unique_id"]: r["compiled_code"] for r in results
            if isinstance(r, dict) and r.get("compiled_code")}


def warehouse_columns(warehouse: Any, schemas: set[str]) -> dict[tuple[str, str], list[dict]]:
    """(schema, table), lower-cased -> its columns with types, from information_schema."""
    if not supports(warehouse, Queries) or not schemas:
        return {}
    quoted = ", ".join("'" + s.replace("'", "''") + "'" for s in sorted(schemas))
    try:
        frame = warehouse.query(
            "select table_schema, table_name, column_name, data_type "
            "from information_schema.columns "
            f"where lower(table_schema) in ({quoted}) order by ordinal_position")
    except Exception as exc:  # noqa: BLE001 - the catalog is still worth writing without
        console.debug(f"braid catalog: columns not read from the warehouse: {exc}")
        return {}
    found: dict[tuple[str, str], list[dict]] = {}
    for schema, table, column, kind in frame.itertuples(index=False):
        found.setdefault((str(schema).lower(), str(table).lower()), []).append(
            {"name": str(column), "type": str(kind)})
    return found


def _columns(documented: Mapping[str, Any], relation: str | None,
             found: Mapping[tuple[str, str], list[dict]]) -> list[dict[str, Any]]:
    """The table's columns from the warehouse, with the documented descriptions; the
    documented ones alone when the table is not there."""
    notes = {name.lower(): c for name, c in (documented or {}).items()}
    parts = (relation or "").split(".")
    actual = found.get((parts[-2].strip('"').lower(), parts[-1].strip('"').lower()), []) \
        if len(parts) >= 2 else []
    if actual:
        return [{**c, "description": getattr(notes.get(c["name"].lower()), "description", "")}
                for c in actual]
    return [{"name": name, "type": getattr(c, "data_type", None) or "",
             "description": getattr(c, "description", "") or ""}
            for name, c in (documented or {}).items()]


def node_details(loaded: Loaded, warehouse: Any) -> list[dict[str, Any]]:
    """Every node of the unified graph but tests and hooks, with what is known of it."""
    graph = loaded.graph
    manifest = loaded.project.manifest
    compiled = compiled_sql(loaded.project.target_dir)
    keep = [u for u, d in graph.nodes(data=True) if d["resource_type"] not in SKIPPED_TYPES]
    schemas = {str(graph.nodes[u]["relation"]).split(".")[-2].strip('"').lower()
               for u in keep if graph.nodes[u].get("relation")
               and len(str(graph.nodes[u]["relation"]).split(".")) >= 2}
    found = warehouse_columns(warehouse, schemas)
    out = []
    for uid in keep:
        data = graph.nodes[uid]
        node: dict[str, Any] = {
            "unique_id": uid, "name": data["name"], "resource_type": data["resource_type"],
            "package_name": data["package_name"], "relation": data.get("relation"),
            "tags": sorted(data.get("tags") or []),
        }
        asset = loaded.assets.get(uid)
        dbt_id = loaded.unified.to_dbt.get(uid, uid)
        resource = (manifest.nodes.get(dbt_id) or manifest.sources.get(dbt_id)
                    or manifest.exposures.get(dbt_id))
        if resource is not None:
            node["description"] = getattr(resource, "description", "") or ""
            node["owner"] = _owner(getattr(resource, "owner", None))
            node["path"] = getattr(resource, "original_file_path", None)
            patch = getattr(resource, "patch_path", None)
            if patch:  # the YAML that documents it ("project://models/x.yml")
                node["yaml_file"] = str(patch).split("://", 1)[-1]
            node["raw_code"] = getattr(resource, "raw_code", None)
            node["group"] = getattr(resource, "group", None)
            config = getattr(resource, "config", None)
            node["materialized"] = getattr(config, "materialized", None)
            node["columns"] = _columns(getattr(resource, "columns", {}) or {},
                                       data.get("relation"), found)
            node["compiled_code"] = compiled.get(dbt_id)
        if asset is not None:
            module, _, function = asset.python.rpartition(".")
            node.update({
                "description": asset.description or node.get("description"),
                "owner": _owner(asset.owner) or node.get("owner"),
                "group": asset.group or node.get("group"),
                "python": asset.python,
                "path": asset.module_file,
                "yaml_file": asset.yaml_file,
                "python_source": function_source(
                    loaded.project.project_root / asset.module_file
                    if not Path(asset.module_file).is_absolute() else Path(asset.module_file),
                    function),
                "declaration": _declaration(resource, asset),
                "raw_code": None,
                "materialized": None,
            })
        out.append(node)
    return out


def _declaration(resource: Any, asset: Any) -> str:
    """The ``meta.braid`` block as YAML, under the resource that declares it."""
    meta = getattr(getattr(resource, "config", None), "meta", None) or getattr(
        resource, "meta", None) or {}
    block = meta.get("braid") if isinstance(meta, Mapping) else None
    kind = "sources" if asset.kind == "source" else "exposures"
    body = {"name": getattr(resource, "name", asset.name),
            "config": {"meta": {"braid": block or {"python": asset.python}}}}
    return f"# {asset.yaml_file} ({kind})\n" + yaml.safe_dump(body, sort_keys=False)


def collect(loaded: Loaded) -> dict[str, Any]:
    """The catalog's data for this project and target."""
    with opened(loaded.io_registry, loaded.project.io_env()) as io:
        nodes = node_details(loaded, io.get("table"))
    statuses = None
    strips = None
    history: list[dict[str, Any]] = []
    runs: list[dict[str, Any]] = []
    if "braid" in loaded.project.package_roots():
        try:
            history = queries.read_history(loaded.project, loaded.io_registry)
            runs = queries.read_runs(loaded.project, loaded.io_registry)
            found = queries.statuses(loaded.project, loaded.graph, loaded.assets, history)
            statuses = {u: s.to_dict() for u, s in found.items()}
            strips = window_strips(found, ids_of(nodes))
        except Exception as exc:  # a catalog without history is still a catalog
            console.say(f"braid catalog: history not read ({exc}); showing no history",
                        err=True)
            statuses, history, runs, strips = None, [], [], None
    ids = ids_of(nodes)
    edges = [(a, b) for a, b in loaded.graph.edges if a in ids and b in ids]
    return catalog_data(
        title=f"braid catalog: {loaded.project.config.project_name}",
        nodes=nodes, edges=edges, statuses=statuses, history=history, runs=runs,
        generated_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        schedules=_schedules(loaded, runs),
        windows=strips,
    )


def ids_of(nodes: list[dict[str, Any]]) -> set[str]:
    return {n["unique_id"] for n in nodes}


def window_strips(statuses: Mapping[str, NodeStatus], ids: set[str]
                  ) -> dict[str, dict[str, Any]]:
    """Each partitioned asset's windows from ``begin`` to now (the schedules' clock,
    ``BRAID_NOW`` included): done, stale, failed or missing, as ``braid status`` judges
    them, with their summary."""
    return {uid: {"states": [(w.key, w.state) for w in status.window_states],
                  "summary": status.windows}
            for uid, status in statuses.items()
            if uid in ids and status.windows is not None}


def _schedules(loaded: Loaded, runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """braid.yml's schedules with their next and last runs (none when braid.yml has none;
    a braid.yml with problems is reported by the commands that use it, not here)."""
    from dbt_braid.core.errors import BraidUserError
    from dbt_braid.schedules import clock, config, seen
    from dbt_braid.schedules.status import schedule_rows

    selectors = getattr(loaded.project.config, "selectors", None) or {}
    try:
        schedules = config.load(loaded.project.project_root, list(selectors))
    except BraidUserError as exc:
        console.debug(f"braid catalog: schedules not shown: {exc}")
        return []
    now = clock.now()
    return schedule_rows(schedules, runs, now, seen.of_project(loaded.project, schedules, now))
