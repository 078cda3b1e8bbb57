"""The ``braid`` command: ``braid <dbt command> [dbt flags]``.

``run`` is braid's own; any other command passes straight to dbt, in-process. Exit codes
follow dbt: 0 all succeeded, 1 a node failed, 2 the invocation or a declaration is invalid
(reported before anything runs, one line per problem, no traceback).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from dbt_braid import __version__, console
from dbt_braid.dbt_project import DbtOptions
from dbt_braid.errors import BraidUserError

OWN_COMMANDS = ("run",)

USAGE = f"""braid {__version__}: dbt with Python assets.

usage: braid <command> [dbt flags]

  run      run the selected dbt models and Python assets in dependency order
  <other>  any other dbt command (deps, seed, test, parse, ...) passes straight to dbt

braid run -h lists the flags of run.
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise BraidUserError(
            f"braid {self.prog.split()[-1]}: {message}; see braid {self.prog.split()[-1]} -h"
        )


def run_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="braid run", description="Run dbt models and Python assets together.")
    p.add_argument(
        "-s",
        "--select",
        "-m",
        "--models",
        nargs="+",
        action="extend",
        default=[],
        help="what to run (names, fqn prefixes, + and @ operators)",
    )
    p.add_argument("--exclude", nargs="+", action="extend", default=[], help="what to leave out")
    p.add_argument("--selector", help="a named selector from selectors.yml (not supported yet)")
    p.add_argument("-t", "--target")
    p.add_argument("--profiles-dir")
    p.add_argument("--project-dir")
    p.add_argument("--vars")
    p.add_argument("--threads", type=int, help="dbt threads, and Python assets run in parallel")
    p.add_argument("-f", "--full-refresh", action="store_true")
    p.add_argument("-x", "--fail-fast", action="store_true")
    return p


def cmd_run(argv: Sequence[str]) -> int:
    from dbt_braid import session

    args, extra = run_parser().parse_known_args(list(argv))
    if args.selector:
        raise BraidUserError("braid run: --selector is not supported yet; use -s/--exclude")
    if args.threads is not None and args.threads < 1:
        raise BraidUserError("braid run: --threads must be at least 1")
    options = DbtOptions(
        args.project_dir, args.profiles_dir, args.target, args.vars, args.threads, tuple(extra)
    )
    request = session.RunRequest(
        command="run",
        select=args.select,
        exclude=args.exclude,
        threads=args.threads,
        full_refresh=args.full_refresh,
        fail_fast=args.fail_fast,
    )
    loaded = session.load(options)
    plan, unmatched = session.plan_run(loaded, request)
    for token in unmatched:
        console.say(f"The selection criterion '{token}' does not match any enabled nodes")
    if not plan.order:
        console.say("Nothing to do. Try checking your model configs and model specification args")
        return 0
    report = session.execute(loaded, plan, request)
    return summarize(report)


def summarize(report: object) -> int:
    from dbt_braid.execution.results import RunReport

    assert isinstance(report, RunReport)
    counts: dict[str, int] = {}
    for r in report.results:
        counts[r.status] = counts.get(r.status, 0) + 1
    n_python = sum(1 for r in report.results if r.resource_type == "python")
    console.say("")
    console.say(
        f"braid: {len(report.results) - n_python} dbt nodes in {report.invocations} dbt "
        f"invocation(s) and {n_python} Python assets in {report.elapsed:.2f}s: "
        + ", ".join(f"{k}={v}" for k, v in sorted(counts.items()))
    )
    for r in report.results:
        if r.status in ("error", "fail"):
            console.say(f"  {r.status.upper()} {r.unique_id}: {r.message}")
    console.say(f"results: {report.target_dir / 'run_results.json'}")
    console.say(f"lineage: {report.target_dir / 'lineage.json'}")
    return 0 if report.success else 1


def passthrough(argv: Sequence[str]) -> int:
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke(list(argv))
    if result.success:
        return 0
    return 2 if result.exception is not None else 1


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if not argv or argv[0] in ("-h", "--help", "help"):
            print(USAGE)
            return 0
        if argv[0] in ("--version", "-V", "version"):
            print(f"braid {__version__}")
            if argv[0] == "version":
                return passthrough(["--version"])
            return 0
        command, rest = argv[0], argv[1:]
        if command == "run":
            return cmd_run(rest)
        return passthrough(argv)
    except BraidUserError as exc:
        for problem in exc.problems:
            print(str(problem), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("braid: interrupted", file=sys.stderr)
        return 130
