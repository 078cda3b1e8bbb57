"""The ``braid`` command: ``braid <dbt command> [dbt flags]``.

``run``, ``build``, ``ls``, ``retry``, ``lineage``, ``history``, ``status`` and ``plugins``
are braid's own (:mod:`.commands`, flags read in :mod:`.flags`). ``seed``, ``snapshot`` and
``test`` build or test nodes, so they take braid's run path (one dbt invocation, recorded in
history as ``build`` records them, no Python asset run); any other command passes straight
to dbt, in-process. Exit codes follow dbt: 0 all succeeded, 1 a node failed, 2 the
invocation or a declaration is invalid (reported before anything runs, one line per
problem, no traceback).
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import threading
from collections.abc import Sequence

from dbt_braid import __version__
from dbt_braid.cli.commands import (
    cmd_catalog,
    cmd_docs_generate,
    cmd_history,
    cmd_lineage,
    cmd_ls,
    cmd_plugins,
    cmd_retry,
    cmd_run,
    cmd_test,
    passthrough,
)
from dbt_braid.core.errors import BraidUserError
from dbt_braid.execution.signals import Terminated, exit_code, raise_terminated

USAGE = f"""braid {__version__}: dbt with Python assets.

usage: braid <command> [dbt flags]

  run      run the selected dbt models and Python assets in dependency order
  build    the same with seeds, snapshots and tests, as dbt build
  ls       list the selection across dbt nodes and Python assets (--output name|json|path)
  history  materializations of the selected nodes, newest first (-s, --output json)
  status   per node: last run, result, fresh or stale and why (-s; select status:stale)
  retry    run again exactly what failed or was skipped in the last run
  lineage  write the graph of dbt nodes and Python assets
           (--format json|mermaid|dot|html|openlineage)
  catalog  write target/braid/catalog.html: every node with its history, code and
           columns, and the recent runs, in one offline page
  schedules  the schedules of braid.yml: cron, next due, last run and result
           (braid run --due runs each schedule that is due, once; --dry-run prints it)
  serve    the catalog live, with a JSON API and runs launched from the page
           (--host 127.0.0.1 --port 8580; prints its URL with a session token)
  plugins  the braid plugins installed and loaded (--all adds the built-ins)
  seed, snapshot, test  dbt's commands, recorded in braid's history as build records them
           (no Python asset runs; braid test -s python:NAME tests an asset's table)
  <other>  any other dbt command (deps, compile, run-operation, ...) passes straight to dbt

braid <command> -h lists the flags of each command. Every command also takes dbt's global
flags (-q/--quiet, --no-use-colors, --log-format, --log-path, --debug, --warn-error, ...),
before or after the command, with dbt's meaning.
"""
def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    on_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, raise_terminated) if on_main else None
    try:
        if not argv or argv[0] in ("-h", "--help", "help"):
            print(USAGE)
            return 0
        if argv[0] in ("--version", "-V", "version"):
            from dbt_braid.dbtcore.versions import version_lines

            print(f"braid {__version__}")
            for line in version_lines():
                print(line)
            if argv[0] == "version":
                return passthrough(["--version"])
            return 0
        if argv[0].startswith("-"):
            from dbt_braid.cli.flags import command_first

            argv = command_first(argv)  # dbt's global flags may come before the command
        command, rest = argv[0], argv[1:]
        if command == "run" and "--due" in rest:
            from dbt_braid.cli.schedules import cmd_due

            return cmd_due([a for a in rest if a != "--due"])
        if command in ("run", "build", "seed", "snapshot"):
            return cmd_run(command, rest)
        if command in ("ls", "list"):
            return cmd_ls(rest)
        if command == "retry":
            return cmd_retry(rest)
        if command in ("history", "status"):
            return cmd_history(command, rest)
        if command == "lineage":
            return cmd_lineage(rest)
        if command == "catalog":
            return cmd_catalog(rest)
        if command == "schedules":
            from dbt_braid.cli.schedules import cmd_schedules

            return cmd_schedules(rest)
        if command == "serve":
            from dbt_braid.cli.serve import cmd_serve

            return cmd_serve(rest)
        if command == "plugins":
            return cmd_plugins(rest)
        if command == "test":
            return cmd_test(rest)
        if command == "docs" and rest[:1] == ["generate"]:
            return cmd_docs_generate(rest[1:])
        return passthrough(argv)
    except BraidUserError as exc:
        for problem in exc.problems:
            print(str(problem), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM (Terminated) outside a run
        print(f"braid: {'terminated' if isinstance(exc, Terminated) else 'interrupted'}",
              file=sys.stderr)
        return exit_code(exc)
    except BrokenPipeError:
        # the reader went away (braid ls | head): not an error; keep Python quiet at exit
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    finally:
        if on_main:
            signal.signal(signal.SIGTERM, previous)
        # DbtProject.parse froze the manifest for the garbage collector; hand it back so
        # that native extensions (DuckDB's) are torn down cleanly at exit
        gc.unfreeze()

