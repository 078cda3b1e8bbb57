"""The flags of braid's own commands, read as dbt reads them.

braid reads the dbt flags it needs itself (selection, target, threads...) and passes every
other flag to dbt untouched; no abbreviations are accepted (``--profile`` is dbt's own flag,
not a prefix of ``--profiles-dir``). ``braid run -h`` shows dbt's own flags for the command,
read from dbt's click command so the help cannot drift.
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Sequence
from typing import Any

from dbt_braid.core.errors import BraidUserError
from dbt_braid.dbtcore.project import DbtOptions
from dbt_braid.graph.unified import TEST_TYPES
from dbt_braid.selection.select import SelectionRequest
from dbt_braid.view import listing

DESCRIPTIONS = {
    "run": "Run dbt models and Python assets together, in dependency order.",
    "build": "Build seeds, snapshots, models, tests and Python assets, as dbt build.",
    "ls": "List the selected dbt nodes and Python assets, in dependency order.",
    "seed": "Load the selected seeds, as dbt seed, recorded in braid's history.",
    "snapshot": "Run the selected snapshots, as dbt snapshot, recorded in braid's history.",
    "test": "Run the selected data and unit tests, as dbt test, recorded in braid's history "
            "(python:NAME selects the tests on an asset's table).",
}

#: dbt's commands that braid runs on its own path without Python assets; only the flags
#: dbt's command has are read here, so any other is dbt's to refuse, as dbt refuses it
DBT_ONLY = frozenset({"seed", "snapshot", "test"})


class Parser(argparse.ArgumentParser):
    """argparse as dbt's click reads flags: no abbreviations, errors as one line (exit 2)."""

    #: the dbt command whose own flags ``-h`` lists after braid's
    dbt_command: str | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def format_help(self) -> str:
        mine = super().format_help()
        if self.dbt_command:
            return mine + "\n" + dbt_flags_help(self.dbt_command)
        return mine + "\n" + GLOBAL_FLAGS_HELP

    def parse_args(  # type: ignore[override]
        self, args: Any = None, namespace: Any = None
    ) -> argparse.Namespace:
        """braid's own flags, and dbt's global flags (``args.dbt_flags``, in their order);
        anything else is refused."""
        known, extra = self.parse_known_args(args, namespace)
        found, rest = split_global_flags(extra) if extra else ([], [])
        if rest:
            self.error(f"unrecognized arguments: {' '.join(rest)}")
        known.dbt_flags = found
        return known

    def error(self, message: str) -> None:  # type: ignore[override]
        name = self.prog.removeprefix("braid ")
        raise BraidUserError(f"braid {name}: {message}; see braid {name} -h")


GLOBAL_FLAGS_HELP = (
    "dbt's global flags (--quiet/-q, --no-use-colors, --log-format, --log-path, --log-level, "
    "--debug/-d, --printer-width, --warn-error, --no-partial-parse, ...) are taken as every dbt "
    "command takes them, with dbt's meaning (see dbt --help)."
)

#: dbt's top-level options that are not flags of a command (braid --version answers)
_NOT_GLOBAL = frozenset({"--version", "-V", "-v"})


@functools.cache
def dbt_global_flags() -> dict[str, bool]:
    """Each spelling of dbt's global flags -> whether it takes a value. They are the options
    of dbt's top-level command that every dbt command takes too (``dbt parse`` stands for
    them all), read from the installed dbt's click so the set follows its release."""
    from dbt.cli.main import cli

    parse = {o for p in cli.commands["parse"].params for o in (*p.opts, *p.secondary_opts)}
    found: dict[str, bool] = {}
    for param in cli.params:
        takes_value = not getattr(param, "is_flag", False) and param.nargs != 0
        for opt in (*param.opts, *param.secondary_opts):
            if opt in parse and opt not in _NOT_GLOBAL:
                found[opt] = takes_value
    return found


def _global_width(token: str) -> int:
    """How many tokens a global flag starting at ``token`` spans (``--log-path x``: 2,
    ``--log-path=x`` and ``-q``: 1); 0 when ``token`` is not one of dbt's global flags."""
    takes_value = dbt_global_flags().get(token.split("=", 1)[0])
    if takes_value is None:
        return 0
    return 2 if takes_value and "=" not in token else 1


def split_global_flags(tokens: Sequence[str]) -> tuple[list[str], list[str]]:
    """``tokens`` split into dbt's global flags (each with its value) and the rest."""
    mine: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(tokens):
        width = _global_width(tokens[i])
        if width:
            mine += tokens[i : i + width]
        else:
            rest.append(tokens[i])
        i += width or 1
    return mine, rest


def command_first(argv: Sequence[str]) -> list[str]:
    """``braid -q status`` as ``braid status -q``: dbt takes its global flags before the
    command as well as after it; braid's commands read them after."""
    leading, rest = [], list(argv)
    while rest and (width := _global_width(rest[0])):
        leading += rest[:width]
        rest = rest[width:]
    return [*rest[:1], *leading, *rest[1:]]


def use_dbt_flags(args: argparse.Namespace) -> None:
    """braid's lines from here on follow dbt's global flags among ``args`` (``-q``, colours,
    ``--log-format``, ``--log-path``...), as ``dbt ls`` would log with them."""
    from dbt_braid.dbtcore import loggers

    where = getattr(args, "project_dir", None)  # dbt.log goes to the project's logs/
    loggers.use_dbt_events("list", [*getattr(args, "dbt_flags", []),
                                    *(["--project-dir", where] if where else [])])


#: the flags that say which project, profiles and target (and dbt vars) a command reads
PROJECT_FLAGS = ("--project-dir", "--profiles-dir", "--profile", "--vars", "--target")


def add_project_flags(parser: argparse.ArgumentParser, with_vars: bool = True) -> None:
    """``--project-dir``, ``--profiles-dir``, ``--profile``, ``-t/--target`` (and
    ``--vars``), as every braid command takes them."""
    for flag in PROJECT_FLAGS:
        if flag == "--vars" and not with_vars:
            continue
        parser.add_argument(flag, *(["-t"] if flag == "--target" else []))


def project_options(args: argparse.Namespace) -> DbtOptions:
    """The project, profiles and target the flags of :func:`add_project_flags` name."""
    return DbtOptions(args.project_dir, args.profiles_dir, args.target,
                      getattr(args, "vars", None), profile=args.profile,
                      extra=tuple(getattr(args, "dbt_flags", ())))


def command_parser(command: str) -> Parser:
    """dbt's flags for ``command`` that braid reads itself; others go to dbt untouched."""
    p = Parser(
        prog=f"braid {command}",
        description=DESCRIPTIONS[command],
    )
    p.dbt_command = command
    p.add_argument(
        "-s",
        "--select",
        "-m",
        "--models",
        nargs="+",
        action="extend",
        default=[],
        help="dbt selection syntax over dbt nodes and Python assets",
    )
    p.add_argument("--exclude", nargs="+", action="extend", default=[])
    p.add_argument("--selector", help="a selector defined in selectors.yml")
    p.add_argument("--state", help="artifacts of an earlier run, for state: and result:")
    p.add_argument("--indirect-selection", choices=["eager", "cautious", "buildable", "empty"])
    p.add_argument("-t", "--target")
    p.add_argument("--profiles-dir")
    p.add_argument("--profile", help="the profile of profiles.yml to use (dbt's --profile)")
    p.add_argument("--project-dir")
    p.add_argument("--vars")
    if command in ("build", "ls", "test"):
        for flag in ("--resource-type", "--resource-types"):
            p.add_argument(flag, dest="resource_types", nargs="+", action="extend", default=[])
        for flag in ("--exclude-resource-type", "--exclude-resource-types"):
            p.add_argument(
                flag, dest="exclude_resource_types", nargs="+", action="extend", default=[]
            )
    if command == "ls":
        p.add_argument("-o", "--output", choices=listing.OUTPUTS, default="selector")
        p.add_argument("--output-keys", nargs="+", action="extend", default=[])
    else:
        _add_run_flags(p, command)
    return p


def _add_run_flags(p: Parser, command: str) -> None:
    """The flags of a command that runs nodes: dbt's that braid reads, then (for ``run``
    and ``build``) braid's own for Python assets."""
    p.add_argument("--threads", type=int, help="dbt threads; Python assets in parallel too")
    if command != "snapshot" and command != "test":
        p.add_argument("-f", "--full-refresh", action="store_true")
    p.add_argument("-x", "--fail-fast", action="store_true")
    if command not in DBT_ONLY:
        p.add_argument("--allow-shared-tables", action="store_true",
                       help="let a non-default target write the source tables the default "
                       "target uses (refused otherwise)")
        for edge in ("start", "end"):
            p.add_argument(f"--event-time-{edge}", type=_moment, metavar="TIME",
                           help=f"the {edge} of the windows to compute ("
                           + ("inclusive" if edge == "start" else "exclusive")
                           + "), for dbt's microbatch models and partitioned Python assets; "
                           "a date or a timestamp, UTC")
        p.add_argument("--executor",
                       help="what runs the Python assets: threads (the default, unless "
                       "braid.yml's executor says otherwise), processes (a process pool, for "
                       "CPU-bound assets), dask (needs dbt-braid[dask]) or a plugin's executor")
        p.add_argument("--dask-address", metavar="ADDRESS",
                       help="with --executor dask: the scheduler, e.g. tcp://host:8786 "
                       "(default: braid.yml executor.dask.address, else a LocalCluster)")


def _moment(text: str) -> Any:
    from dbt_braid.core.windows import parse_moment

    try:
        return parse_moment(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date or a timestamp (2026-01-31, 2026-01-31 05:00:00)"
        ) from None


def _event_times(args: argparse.Namespace) -> tuple[Any, Any]:
    """dbt's rule: both or neither, and the start before the end."""
    start, end = getattr(args, "event_time_start", None), getattr(args, "event_time_end", None)
    if (start is None) != (end is None):
        given, missing = ("start", "end") if end is None else ("end", "start")
        raise BraidUserError(f"--event-time-{given} was given without --event-time-{missing}; "
                             "give both (the windows from the start up to the end)")
    if start is not None and start >= end:
        raise BraidUserError("--event-time-start must be before --event-time-end")
    return start, end


def dbt_flags_help(command: str) -> str:
    import click
    from dbt.cli.main import cli

    dbt_command = cli.commands.get("list" if command == "ls" else command)
    if dbt_command is None:
        return ""
    ctx = click.Context(dbt_command, info_name=f"dbt {command}")
    formatter = ctx.make_formatter()
    dbt_command.format_options(ctx, formatter)
    return (
        f"Every flag braid does not read itself goes to dbt unchanged. "
        f"dbt's own flags for `dbt {command}`:\n\n" + formatter.getvalue()
    )


def _resource_types(args: argparse.Namespace, default: frozenset[str]) -> tuple[str, ...]:
    chosen = set(getattr(args, "resource_types", []) or [])
    if "all" in chosen:
        chosen = set(listing.ALL_TYPES)
    types = chosen or set(default)
    types -= set(getattr(args, "exclude_resource_types", []) or [])
    unknown = types - listing.ALL_TYPES
    if unknown:
        raise BraidUserError(
            f"--resource-type: unknown {', '.join(sorted(unknown))}; "
            f"choose from {', '.join(sorted(listing.ALL_TYPES))}"
        )
    return tuple(sorted(types))


def options_and_selection(
    command: str, argv: Sequence[str]
) -> tuple[argparse.Namespace, DbtOptions, SelectionRequest]:
    args, extra = command_parser(command).parse_known_args(list(argv))
    threads = getattr(args, "threads", None)
    if threads is not None and threads < 1:
        raise BraidUserError(f"braid {command}: --threads must be at least 1")
    if args.state:
        extra += ["--state", args.state]
    options = DbtOptions(
        args.project_dir, args.profiles_dir, args.target, args.vars, threads, tuple(extra),
        profile=args.profile,
    )
    types: tuple[str, ...] = ()
    if command == "ls":
        types = _resource_types(args, listing.DEFAULT_TYPES)
    elif command == "build" and (args.resource_types or args.exclude_resource_types):
        types = _resource_types(args, listing.ALL_TYPES)
    elif command == "test" and (args.resource_types or args.exclude_resource_types):
        types = _resource_types(args, TEST_TYPES)
    selection = SelectionRequest(
        args.select, args.exclude, args.selector, args.state, types, args.indirect_selection
    )
    return args, options, selection



def run_request(command: str, argv: Sequence[str]) -> tuple[DbtOptions, Any]:
    from dbt_braid.run.request import RunRequest

    args, options, selection = options_and_selection(command, argv)
    request = RunRequest(
        command=command,
        selection=selection,
        threads=args.threads,
        full_refresh=getattr(args, "full_refresh", False),
        fail_fast=args.fail_fast,
        argv=list(argv),
        executor=getattr(args, "executor", None),
        executor_options=({"address": address}
                          if (address := getattr(args, "dask_address", None)) else {}),
        allow_shared_tables=getattr(args, "allow_shared_tables", False),
    )
    request.event_time_start, request.event_time_end = _event_times(args)
    return options, request


def warn_error_applies(dbt_flags: Sequence[str], event: str) -> bool:
    """Whether dbt's ``--warn-error`` / ``--warn-error-options`` among the flags braid passes
    to dbt turn the warning ``event`` (a dbt event name) into an error."""
    import yaml

    flags = list(dbt_flags)
    if "--warn-error" in flags and "--no-warn-error" not in flags[flags.index("--warn-error"):]:
        return True
    for i, flag in enumerate(flags):
        value = None
        if flag == "--warn-error-options" and i + 1 < len(flags):
            value = flags[i + 1]
        elif flag.startswith("--warn-error-options="):
            value = flag.split("=", 1)[1]
        if value is None:
            continue
        try:
            options = yaml.safe_load(value) or {}
        except yaml.YAMLError:
            continue
        if not isinstance(options, dict):
            continue
        errors = options.get("error", options.get("include")) or []
        warns = options.get("warn", options.get("exclude")) or []
        chosen = errors in ("all", "*") or (isinstance(errors, list) and event in errors)
        if chosen and not (isinstance(warns, list) and event in warns):
            return True
    return False
