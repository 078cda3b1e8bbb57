"""``braid serve [--host 127.0.0.1] [--port 8580]``: the catalog live, with actions."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path

from dbt_braid import console
from dbt_braid.cli.flags import Parser, add_project_flags, project_options, use_dbt_flags
from dbt_braid.core.errors import BraidUserError


def cmd_serve(argv: Sequence[str]) -> int:
    from dbt_braid.catalog.collect import collect
    from dbt_braid.catalog.launcher import Launcher
    from dbt_braid.catalog.reload import Reloading
    from dbt_braid.catalog.serve import Catalog, Server, new_token, run_ended, tick
    from dbt_braid.execution.run_lock import holder_of
    from dbt_braid.run import retry, session

    parser = Parser(prog="braid serve", description="Serve the catalog live, with actions.")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=8580, help="0 picks a free port")
    parser.add_argument("--debug", action="store_true",
                        help="the server's debug lines (e.g. a browser that went away)")
    add_project_flags(parser)
    args = parser.parse_args(list(argv))
    options = project_options(args)
    loaded = session.load(options, "ls")
    use_dbt_flags(args)
    project = loaded.project
    from dbt_braid.schedules import config

    selectors = getattr(project.config, "selectors", None) or {}
    schedules = config.load(project.project_root, list(selectors))  # bad: exit 2 now
    # a launched run is the braid command with this server's project, profiles and target
    project_args = ["--project-dir", str(project.project_root)]
    for flag, value in (("--profiles-dir", args.profiles_dir), ("--profile", args.profile),
                        ("--target", args.target), ("--vars", args.vars)):
        if value:
            project_args += [flag, str(Path(value).resolve()) if flag == "--profiles-dir"
                             else value]
    launcher = Launcher(project_args, project.target_dir, Path.cwd())
    # the project is parsed again when its files change (an edit makes a node stale)
    reloading = Reloading(loaded, lambda: session.load(options, "ls"))
    catalog = Catalog(lambda: reloading.data(collect),
                      busy=lambda: launcher.busy() is not None, changed=reloading.changed)
    launcher.on_end = run_ended(catalog)

    def last_run() -> retry.LastRun | None:
        try:
            return retry.last_run(project.project_root)
        except BraidUserError:
            return None

    given = os.environ.get("BRAID_SERVE_TOKEN")
    token = new_token(given)
    try:  # read once before listening: a broken project fails here, not per request
        catalog.data()
    except BraidUserError:
        raise
    except Exception as exc:  # noqa: BLE001 - one line, no traceback
        raise BraidUserError(f"braid serve: cannot read the catalog: "
                             f"{' '.join(str(exc).split())}") from None
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
    stop = threading.Event()
    if schedules:
        every = float(os.environ.get("BRAID_SERVE_TICK", "60"))
        from dbt_braid.schedules import seen

        threading.Thread(target=tick, args=(server, schedules, every, lambda: holder_of(project),
                                            stop, lambda now: seen.of_project(project, schedules,
                                                                              now)),
                         name="braid-serve-tick", daemon=True).start()
        console.say(f"braid serve: {len(schedules)} schedule{'s' if len(schedules) > 1 else ''}"
                    f" of braid.yml, checked every {every:g} s")
    try:
        server.serve_forever(poll_interval=0.25)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        server.server_close()
    return 0
