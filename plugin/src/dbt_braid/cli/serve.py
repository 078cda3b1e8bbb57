"""``braid serve [--host 127.0.0.1] [--port 8580]``: the catalog live, with actions."""

from __future__ import annotations

import argparse
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from dbt_braid import console
from dbt_braid.cli.flags import Parser, add_project_flags, project_options, use_dbt_flags
from dbt_braid.core.errors import BraidUserError

if TYPE_CHECKING:  # the catalog's server is imported when serve runs, not when braid starts
    from dbt_braid.catalog.launcher import Launcher
    from dbt_braid.catalog.serve import Catalog, Server
    from dbt_braid.dbtcore.project import DbtProject as Project
    from dbt_braid.schedules.config import Schedule


def _parser() -> Parser:
    parser = Parser(prog="braid serve", description="Serve the catalog live, with actions.")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=8580, help="0 picks a free port")
    parser.add_argument("--debug", action="store_true",
                        help="the server's debug lines (e.g. a browser that went away)")
    add_project_flags(parser)
    return parser


def _project_args(args: argparse.Namespace, project_root: Path) -> list[str]:
    """A launched run is the braid command with this server's project, profiles and target."""
    project_args = ["--project-dir", str(project_root)]
    for flag, value in (("--profiles-dir", args.profiles_dir), ("--profile", args.profile),
                        ("--target", args.target), ("--vars", args.vars)):
        if value:
            project_args += [flag, str(Path(value).resolve()) if flag == "--profiles-dir"
                             else value]
    return project_args


def cmd_serve(argv: Sequence[str]) -> int:
    from dbt_braid.catalog.collect import collect
    from dbt_braid.catalog.launcher import Launcher
    from dbt_braid.catalog.reload import Reloading
    from dbt_braid.catalog.serve import Catalog, run_ended
    from dbt_braid.run import session
    from dbt_braid.schedules import config

    args = _parser().parse_args(list(argv))
    options = project_options(args)
    loaded = session.load(options, "ls")
    use_dbt_flags(args)
    project = loaded.project
    selectors = getattr(project.config, "selectors", None) or {}
    schedules = config.load(project.project_root, list(selectors))  # bad: exit 2 now
    launcher = Launcher(_project_args(args, project.project_root), project.target_dir,
                        Path.cwd())
    # the project is parsed again when its files change (an edit makes a node stale)
    reloading = Reloading(loaded, lambda: session.load(options, "ls"))
    catalog = Catalog(lambda: reloading.data(collect),
                      busy=lambda: launcher.busy() is not None, changed=reloading.changed)
    launcher.on_end = run_ended(catalog)
    try:  # read once before listening: a broken project fails here, not per request
        catalog.data()
    except BraidUserError:
        raise
    except Exception as exc:  # noqa: BLE001 - one line, no traceback
        raise BraidUserError(f"braid serve: cannot read the catalog: "
                             f"{' '.join(str(exc).split())}") from None
    server = _listen(args, catalog, launcher, project)
    stop = threading.Event()
    if schedules:
        _tick_schedules(server, schedules, project, stop)
    try:
        server.serve_forever(poll_interval=0.25)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        server.server_close()
    return 0


def _listen(args: argparse.Namespace, catalog: Catalog, launcher: Launcher,
            project: Project) -> Server:
    """The server bound and announced: its address with the token (unless the user gave it
    in ``BRAID_SERVE_TOKEN``), and a warning when other machines can reach it."""
    from dbt_braid.catalog.serve import Server, new_token
    from dbt_braid.execution.run_lock import holder_of
    from dbt_braid.run import retry

    def last_run() -> retry.LastRun | None:
        try:
            return retry.last_run(project.project_root)
        except BraidUserError:
            return None

    given = os.environ.get("BRAID_SERVE_TOKEN")
    token = new_token(given)
    try:
        server = Server((args.host, args.port), catalog, launcher, token, last_run,
                        lambda: holder_of(project))
    except OSError as exc:
        raise BraidUserError(f"braid serve: cannot listen on {args.host}:{args.port}: "
                             f"{exc.strerror or exc}") from None
    server.debug = args.debug
    url = server.origin + "/"
    shown = url if given else f"{url}?token={token}"
    # what the command gives you, as ls's lines: shown with -q too
    print(f"braid serve: {shown}  (Ctrl-C stops it)", flush=True)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        console.warn(f"braid serve: listening on {args.host}: other machines can reach the "
                     "page; launching still needs the token")
    return server


def _tick_schedules(server: Server, schedules: list[Schedule], project: Project,
                    stop: threading.Event) -> None:
    """Check braid.yml's schedules every ``BRAID_SERVE_TICK`` seconds, until ``stop``."""
    from dbt_braid.catalog.serve import tick
    from dbt_braid.execution.run_lock import holder_of
    from dbt_braid.schedules import seen

    every = float(os.environ.get("BRAID_SERVE_TICK", "60"))
    threading.Thread(target=tick, args=(server, schedules, every, lambda: holder_of(project),
                                        stop, lambda now: seen.of_project(project, schedules,
                                                                          now)),
                     name="braid-serve-tick", daemon=True).start()
    console.say(f"braid serve: {len(schedules)} schedule{'s' if len(schedules) > 1 else ''}"
                f" of braid.yml, checked every {every:g} s")
