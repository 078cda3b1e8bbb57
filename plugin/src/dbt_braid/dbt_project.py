"""dbt, in-process: parse the project once and run batches against that manifest.

dbt's in-process invocations are not thread-safe, so one instance is driven from one thread
at a time (the engine's main thread). The manifest from the single ``parse`` is passed to
every later invocation, which skips parsing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dbt.cli.main import dbtRunner, dbtRunnerResult

from dbt_braid.errors import BraidUserError


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

    def common_args(self) -> list[str]:
        args: list[str] = []
        for flag, value in (
            ("--project-dir", self.project_dir),
            ("--profiles-dir", self.profiles_dir),
            ("--target", self.target),
            ("--vars", self.vars),
        ):
            if value is not None:
                args += [flag, value]
        return args


@dataclass
class DbtProject:
    options: DbtOptions
    manifest: Any = None
    config: Any = None
    invocations: int = 0
    callbacks: list[Callable[[Any], None]] = field(default_factory=list)

    def parse(self) -> Any:
        """Parse once (writes target/manifest.json as ``dbt parse`` does)."""
        result = dbtRunner().invoke(["parse", "--quiet", *self.options.common_args()])
        if not result.success or result.result is None:
            raise BraidUserError(f"dbt could not parse the project: {result.exception}")
        self.manifest = result.result
        from dbt.adapters.factory import FACTORY

        adapters = list(FACTORY.adapters.values())
        if not adapters:
            raise BraidUserError(
                "dbt parsed the project but registered no adapter; check profiles.yml"
            )
        first: Any = adapters[0]
        self.config = first.config
        return self.manifest

    def link(self, with_test_edges: bool = False) -> Any:
        """dbt's own graph of the manifest (its Linker), with ``dbt build``'s test edges."""
        from dbt.compilation import Linker

        linker = Linker()
        linker.link_graph(self.manifest)
        if with_test_edges:
            linker.add_test_edges(self.manifest)
        return linker.graph

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
        """The argument list of one invocation of ``command``."""
        args = [command, *self.options.common_args()]
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
        selectors: Sequence[str],
        flags: Sequence[str] = (),
        callbacks: Sequence[Callable[[Any], None]] = (),
    ) -> dbtRunnerResult:
        """One dbt invocation over ``selectors`` with the parsed manifest."""
        args = self.run_args(command, selectors, flags)
        self.invocations += 1
        runner = dbtRunner(manifest=self.manifest, callbacks=list(callbacks))
        return runner.invoke(args)
