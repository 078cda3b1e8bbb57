"""dbt, in-process: parse the project once and run batches against that manifest.

dbt's in-process invocations are not thread-safe, so one instance is driven from one thread
at a time (the engine's main thread). The manifest from the single ``parse`` is passed to
every later invocation, which skips parsing. Each batch runs exactly the unique_ids braid
chose, with the project hooks the run's position calls for (:mod:`.patches`).
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from dbt.cli.main import dbtRunner, dbtRunnerResult

from dbt_braid import console
from dbt_braid.core.errors import BraidUserError
from dbt_braid.dbtcore.patches import (
    HookPlan,
    StreamState,
    exact_selection,
    hooks,
    parse_warnings,
    stream,
)
from dbt_braid.dbtcore.versions import GRAPH_COLLECTIONS, graph_collection
from dbt_braid.io.base import IOEnv


def flags_for(
    command: str, argv: Sequence[str], only: Collection[str] | None = None
) -> list[str]:
    """The flags of ``argv`` (the user's flags braid does not read) that dbt's ``command``
    accepts, with their values: e.g. ``--no-partial-parse`` and ``--target-path`` reach the
    one parse, while ``--full-refresh`` does not. Arity comes from dbt's own click options.
    ``only``: keep just these options (names without dashes or a ``no-`` prefix)."""
    from dbt.cli.main import cli

    def options(name: str) -> dict[str, Any]:
        found: dict[str, Any] = {}
        group = cli.commands.get(name)
        for param in getattr(group, "params", []):
            for opt in [*getattr(param, "opts", []), *getattr(param, "secondary_opts", [])]:
                found[opt] = param
        return found

    wanted = options(command)
    every = {**options("run"), **options("build"), **wanted}
    out: list[str] = []
    i = 0
    while i < len(argv):
        token = argv[i]
        name = token.split("=", 1)[0]
        param = every.get(name)
        takes_value = (
            param is not None and not getattr(param, "is_flag", False) and "=" not in token
            and getattr(param, "nargs", 1) != 0
        )
        chunk = list(argv[i : i + 2]) if takes_value else [token]
        if name in wanted and (only is None or name.lstrip("-").removeprefix("no-") in only):
            out += chunk
        i += len(chunk)
    return out


@dataclass(frozen=True)
class DbtOptions:
    """The flags that shape parsing and every invocation of one braid command."""

    project_dir: str | None = None
    profiles_dir: str | None = None
    target: str | None = None
    vars: str | None = None
    threads: int | None = None
    #: other dbt flags, passed to every invocation after the command
    extra: tuple[str, ...] = ()
    profile: str | None = None

    def common_args(self, extra_vars: Mapping[str, Any] | None = None) -> list[str]:
        args: list[str] = []
        for flag, value in (
            ("--project-dir", self.project_dir),
            ("--profiles-dir", self.profiles_dir),
            ("--profile", self.profile),
            ("--target", self.target),
            ("--vars", self.merged_vars(extra_vars)),
        ):
            if value is not None:
                args += [flag, value]
        return args

    def user_vars(self) -> dict[str, Any]:
        """The user's --vars as a mapping (empty when none)."""
        try:
            found = yaml.safe_load(self.vars) if self.vars else {}
        except yaml.YAMLError:
            return {}
        return found if isinstance(found, dict) else {}

    def merged_vars(self, extra: Mapping[str, Any] | None = None) -> str | None:
        """The user's --vars with braid's own added (as YAML/JSON, which dbt reads)."""
        if not extra:
            return self.vars
        try:
            mine = yaml.safe_load(self.vars) if self.vars else {}
        except yaml.YAMLError as exc:
            raise BraidUserError(f"--vars: not YAML: {exc}") from None
        if not isinstance(mine, dict):
            raise BraidUserError("--vars: must be a mapping, e.g. --vars '{key: value}'")
        return json.dumps({**mine, **extra}, default=str)


@dataclass
class DbtProject:
    options: DbtOptions
    manifest: Any = None
    config: Any = None
    invocations: int = 0
    run_id: str | None = None
    #: dbt's warnings while parsing (event, level): a run's header shows them, as dbt does
    parse_warnings: Sequence[tuple[Any, Any]] = ()

    def parse(self) -> Any:
        """Parse once. Writes no target/manifest.json: each dbt invocation of a run writes
        it, with the Python assets' code versions stamped in (dbtcore.code_versions)."""
        with parse_warnings() as kept:
            result = dbtRunner().invoke(
                ["parse", "--quiet", "--no-write-json", *self.options.common_args(),
                 *flags_for("parse", self.options.extra)]
            )
        self.parse_warnings = tuple(kept)
        if not result.success or result.result is None:
            raise BraidUserError(f"dbt could not parse the project: {result.exception}")
        self.manifest = result.result
        # The manifest lives as long as the command and holds millions of objects; freezing
        # them keeps the garbage collector from walking them again on every collection
        # (on 10,000 models that was most of braid's own time).
        gc.freeze()
        from dbt.adapters.factory import FACTORY

        adapters = list(FACTORY.adapters.values())
        if not adapters:
            raise BraidUserError(
                "dbt parsed the project but registered no adapter; check profiles.yml"
            )
        first: Any = adapters[0]
        self.config = first.config
        return self.manifest

    def write_manifest(self) -> None:
        """target/manifest.json from the parsed manifest, with dbt's own writer (as each
        ``dbt run`` writes it), unless the flags say ``--no-write-json``."""
        if "--no-write-json" in self.options.extra:
            return
        from dbt.parser.manifest import write_manifest

        self.target_dir.mkdir(parents=True, exist_ok=True)
        write_manifest(self.manifest, str(self.target_dir))

    def link(self, with_test_edges: bool = False) -> Any:
        """dbt's own graph of the manifest (its Linker), with ``dbt build``'s test edges."""
        from dbt.compilation import Linker

        linker = Linker()
        # Linker.link_graph, less its whole-graph find_cycle: dbt's parse already rejected
        # cycles among dbt nodes, and braid checks the unified graph itself (faster, with
        # strongly connected components); on 10,000 models the skipped check costs ~1 s.
        manifest = self.manifest
        for source in manifest.sources.values():
            linker.add_node(source.unique_id)
        for name in GRAPH_COLLECTIONS:
            if name == "sources":
                continue
            for node in graph_collection(manifest, name).values():
                linker.link_node(node, manifest)
        if with_test_edges:
            linker.add_test_edges(self.manifest)
        return linker.graph

    def asset_vars(self, package_name: str) -> dict[str, Any]:
        """What ``var()`` answers in a model of ``package_name``: the root project's vars,
        that package's scoped vars over them, the user's ``--vars`` over both."""
        root = getattr(getattr(self.config, "vars", None), "vars", None) or {}
        scoped = root.get(package_name)
        return {**root, **(scoped if isinstance(scoped, dict) else {}),
                **self.options.user_vars()}

    def relation_sql(self, kind: str, name: str) -> str | None:
        """``ref`` (a model, seed or snapshot by name) or ``source`` (``src.table``): its
        relation quoted as the target's adapter quotes it; None when there is none."""
        from dbt_braid.core.assets import Relation
        from dbt_braid.io import adapter_sql

        found: Any = None
        if kind == "source":
            found = next((s for s in self.manifest.sources.values()
                          if f"{s.source_name}.{s.name}" == name), None)
        else:
            root = self.config.project_name
            candidates = [
                n for n in self.manifest.nodes.values()
                if n.name == name and str(getattr(n.resource_type, "value", n.resource_type))
                in ("model", "seed", "snapshot")
            ]
            candidates.sort(key=lambda n: n.package_name != root)
            found = candidates[0] if candidates else None
        if found is None:
            return None
        identifier = getattr(found, "identifier", None) or found.alias
        # database.schema.identifier, as {{ ref() }} renders in a model
        return adapter_sql.render(
            adapter_sql.adapter_class(self.config.credentials.type),
            Relation(found.database, found.schema, identifier),
        )

    def relation_table(self) -> dict[tuple[str, str], str | None]:
        """Every :meth:`relation_sql` answer, for a worker that cannot ask (``--executor
        processes``/``dask``): each model, seed and snapshot name, and each source."""
        names = {("ref", n.name) for n in self.manifest.nodes.values()
                 if str(getattr(n.resource_type, "value", n.resource_type))
                 in ("model", "seed", "snapshot")}
        names |= {("source", f"{s.source_name}.{s.name}") for s in self.manifest.sources.values()}
        return {(kind, name): self.relation_sql(kind, name) for kind, name in names}

    def has_hooks(self, kind: str) -> bool:
        """Whether the project (or a package) defines ``on-run-start``/``on-run-end`` hooks."""
        return any(
            str(getattr(n.resource_type, "value", n.resource_type)) == "operation"
            and kind in (n.tags or [])
            for n in self.manifest.nodes.values()
        )

    def test_deps(self) -> dict[str, list[str]]:
        """Each data test and the nodes it tests."""
        return {
            uid: list(node.depends_on.nodes)
            for uid, node in self.manifest.nodes.items()
            if str(getattr(node.resource_type, "value", node.resource_type)) == "test"
        }

    @property
    def project_root(self) -> Path:
        return Path(self.config.project_root)

    @property
    def target_dir(self) -> Path:
        return self.project_root / self.config.target_path

    def package_roots(self) -> dict[str, Path]:
        roots = {self.config.project_name: self.project_root}
        for name, project in self.config.load_dependencies().items():
            roots.setdefault(name, Path(project.project_root))
        return roots

    def io_env(self, run_id: str = "") -> IOEnv:
        """What this target's IO managers may know (io.base.opened builds them from it)."""
        credentials = self.config.credentials
        return IOEnv(self.project_root, self.target(), credentials.type, credentials, run_id)

    def target(self) -> dict[str, Any]:
        creds = self.config.credentials
        return {
            "name": self.config.target_name,
            "type": creds.type,
            "database": getattr(creds, "database", None),
            "schema": getattr(creds, "schema", None),
            "threads": self.config.threads,
        }

    def run_args(
        self, command: str, selectors: Sequence[str], flags: Sequence[str] = ()
    ) -> list[str]:
        """The argument list of one invocation of ``command``.

        ``braid_run_id`` tells the package's on-run-end macro that braid records this run.
        """
        extra = {"braid_run_id": self.run_id} if self.run_id else None
        args = [command, *self.options.common_args(extra)]
        if self.options.threads is not None:
            args += ["--threads", str(self.options.threads)]
        args += list(flags) + list(self.options.extra)
        if selectors:
            args += ["--select", *selectors]
        return args

    def check_args(self, command: str, flags: Sequence[str] = ()) -> None:
        """Let dbt's own parser reject bad flags now, before anything has run."""
        import click
        from dbt.cli.main import cli

        args = self.run_args(command, [], flags)
        subcommand = cli.commands.get(command)
        if subcommand is None:
            raise BraidUserError(f"dbt has no command {command!r}")
        try:
            subcommand.make_context(command, args[1:])
        except click.ClickException as exc:
            raise BraidUserError(f"braid {command}: {exc.format_message()}") from None

    def invoke(
        self,
        command: str,
        nodes: Sequence[str],
        flags: Sequence[str] = (),
        callbacks: Sequence[Callable[[Any], None]] = (),
        hook_plan: HookPlan | None = None,
        stream_state: StreamState | None = None,
    ) -> dbtRunnerResult:
        """One dbt invocation of exactly ``nodes`` (unique_ids) with the parsed manifest;
        with ``stream_state``, part of a braid run's one console stream."""
        # the --select value is never evaluated (exact_selection answers instead); it keeps
        # dbt from falling back to a default selector from selectors.yml
        args = self.run_args(command, ["fqn:*"], flags)
        self.invocations += 1
        runner = dbtRunner(manifest=self.manifest, callbacks=list(callbacks))
        with exact_selection(nodes), hooks(hook_plan), stream(stream_state):
            return runner.invoke(args)

    def run_operation(self, macro: str, args: Mapping[str, Any]) -> dbtRunnerResult:
        """``dbt run-operation`` with the parsed manifest (not counted as a batch)."""
        command = [
            "run-operation",
            macro,
            "--args",
            json.dumps(args, default=str),
            "--quiet",
            # braid's bookkeeping must not replace the run's target/run_results.json
            "--no-write-json",
            *self.options.common_args(),
            *flags_for("run-operation", self.options.extra),
        ]
        try:
            return dbtRunner(manifest=self.manifest).invoke(command)
        finally:
            console.restore_dbt_events()

    def show(self, sql: str) -> list[dict[str, Any]]:
        """Rows of ``sql`` through dbt's adapter (``dbt show --inline``), for any warehouse."""
        result = dbtRunner(manifest=self.manifest).invoke(
            [
                "show",
                "--inline",
                sql,
                "--limit",
                "-1",
                "--quiet",
                "--no-write-json",
                *self.options.common_args(),
                *flags_for("show", self.options.extra),
            ]
        )
        console.restore_dbt_events()
        if not result.success or result.result is None:
            raise RuntimeError(f"dbt show failed: {result.exception}")
        shown: Any = result.result
        table = shown.results[0].agate_table
        return [dict(zip(table.column_names, row, strict=True)) for row in table.rows]
