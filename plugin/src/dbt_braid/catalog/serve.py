"""``braid serve``: the catalog live from the warehouse, a JSON API, and runs launched from it.

Built on the standard library's ``http.server`` (a thread per request): one user's browser
and scripts on this machine talk to it, the page polls for changes, nothing needs
websockets or a framework, and braid gains no dependency. The server is a thin layer: the
page is the catalog's, the data is :func:`dbt_braid.catalog.collect.collect`'s, and a launch
is the ``braid`` command (:mod:`dbt_braid.catalog.launcher`).

Security: it binds 127.0.0.1 unless told otherwise; a request whose ``Host`` is not this
server's is refused (403: no DNS rebinding); every request that changes state (POST) needs
the session token as ``Authorization: Bearer <token>`` (401 without it) and, when a browser
sends an ``Origin``, this server's own (403 otherwise). Nothing reads a file the request
names, and nothing runs but braid's own ``run``, ``build`` and ``retry``.

API (docs in README): ``GET /api/assets``, ``GET /api/assets/<unique_id>``, ``GET
/api/runs``, ``GET /api/runs/<run_id>``, ``POST /api/runs``, ``POST
/api/runs/<run_id>/retry``, ``POST /api/runs/<run_id>/cancel``; ``GET /`` is the page, ``GET
/api/catalog`` its data. A browser that goes away mid-answer costs one debug line.
"""

from __future__ import annotations

import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from dbt_braid import console
from dbt_braid.catalog import page
from dbt_braid.catalog.launcher import BadRequest, Launched, Launcher, run_argv
from dbt_braid.run.retry import LastRun

#: what ``braid retry`` says (and exits 0) when the last run left nothing to retry
NOTHING_TO_RETRY = "Nothing to retry: the last run had no failed or skipped nodes"
#: a client that closed its connection before the answer was written
GONE = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)

#: seconds the catalog's data is reused before the warehouse is read again
FRESH_FOR = 3.0
#: fields of each asset in GET /api/assets (the full record is GET /api/assets/<id>)
SUMMARY = ("unique_id", "name", "resource_type", "package_name", "relation", "tags",
           "health", "upstream", "downstream")


class Catalog:
    """The catalog's data, read again when it is older than FRESH_FOR, a run ended or the
    project's files changed (``changed``: the next read parses the project again)."""

    def __init__(self, read: Callable[[], dict[str, Any]],
                 busy: Callable[[], bool] = lambda: False,
                 changed: Callable[[], bool] = lambda: False) -> None:
        self.read = read
        self.changed = changed
        #: while a launched run goes, the warehouse is left alone: reading a DuckDB file
        #: at the moment the run opens it would make the run fail
        self.busy = busy
        self._data: dict[str, Any] | None = None
        self._at = 0.0
        self._lock = threading.Lock()

    def invalidate(self) -> None:
        # no lock: a read that waits for a launched run to exit (busy) holds it, and the
        # run's end is what calls this (one assignment is atomic)
        self._at = 0.0

    def data(self) -> dict[str, Any]:
        with self._lock:
            if self._data is not None and self.busy():
                return self._data
            if (self._data is not None and time.monotonic() - self._at < FRESH_FOR
                    and not self.changed()):
                return self._data
            try:
                self._data = {**self.read(), "live": True}
            except Exception as exc:  # noqa: BLE001 - e.g. a run holds the DuckDB file
                if self._data is None:
                    raise
                self._data = {**self._data, "note": f"history not read now: "
                              f"{' '.join(str(exc).split())}"}
            self._at = time.monotonic()
            return self._data


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], catalog: Catalog, launcher: Launcher,
                 token: str, last_run: Callable[[], LastRun | None],
                 lock_holder: Callable[[], str | None]) -> None:
        super().__init__(address, Handler)
        self.catalog = catalog
        self.launcher = launcher
        self.token = token
        self.last_run = last_run
        self.lock_holder = lock_holder
        self.launch_lock = threading.Lock()
        #: braid serve --debug: the server's own debug lines on stderr
        self.debug = False

    @property
    def origin(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A browser that went away (a closed tab, a reload) is no error of the server's:
        one debug line instead of the standard library's traceback."""
        import sys

        exc = sys.exc_info()[1]
        if isinstance(exc, GONE):
            line = (f"braid serve: {client_address[0]} closed the connection before the "
                    f"answer was sent ({type(exc).__name__})")
            if self.debug:
                console.say(line, err=True)
            return
        super().handle_error(request, client_address)

    def hosts(self) -> set[str]:
        host, port = str(self.server_address[0]), self.server_address[1]
        names = {host}
        if host in ("127.0.0.1", "::1", "localhost"):
            names |= {"127.0.0.1", "localhost", "[::1]"}
        return {f"{n}:{port}" for n in names}


class Handler(BaseHTTPRequestHandler):
    server: Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass  # the console is the run's; requests are not news

    # ---- replies ------------------------------------------------------------------
    def _send(self, status: int, body: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, value: Any) -> None:
        self._send(status, json.dumps(value, default=str).encode(), "application/json")

    def _error(self, status: int, message: str) -> None:
        self._json(status, {"error": message})

    def _allowed_host(self) -> bool:
        if self.headers.get("Host") not in self.server.hosts():
            self._error(HTTPStatus.FORBIDDEN, "unknown Host")
            return False
        return True

    # ---- GET ----------------------------------------------------------------------
    def do_GET(self) -> None:  # noqa: N802 - the base's name
        if not self._allowed_host():
            return
        path = unquote(urlsplit(self.path).path)
        try:
            if path in ("/", "/index.html"):
                self._send(HTTPStatus.OK, page.to_html(self.server.catalog.data()).encode(),
                           "text/html; charset=utf-8")
            elif path == "/api/catalog":
                self._json(HTTPStatus.OK, self.server.catalog.data())
            elif path == "/api/assets":
                nodes = self.server.catalog.data()["nodes"]
                self._json(HTTPStatus.OK, [{k: n.get(k) for k in SUMMARY} for n in nodes])
            elif path.startswith("/api/assets/"):
                uid = path[len("/api/assets/"):]
                found = next((n for n in self.server.catalog.data()["nodes"]
                              if n["unique_id"] == uid), None)
                if found is None:
                    self._error(HTTPStatus.NOT_FOUND, f"no node {uid!r}")
                else:
                    self._json(HTTPStatus.OK, found)
            elif path == "/api/runs":
                self._json(HTTPStatus.OK, self._runs())
            elif path.startswith("/api/runs/"):
                self._run(path[len("/api/runs/"):])
            else:
                self._error(HTTPStatus.NOT_FOUND, "not found")
        except GONE:
            raise  # nobody to answer: handle_error makes it one debug line
        except Exception as exc:  # noqa: BLE001 - one line to the client, not a traceback
            self._error(HTTPStatus.SERVICE_UNAVAILABLE, " ".join(str(exc).split()))

    def _runs(self) -> list[dict[str, Any]]:
        launched = {r.run_id: r for r in self.server.launcher.started()}
        out = []
        for run in self.server.catalog.data().get("runs", []):
            mine = launched.pop(run["run_id"], None)
            if mine is not None and mine.active:
                out.append({**run, "status": mine.state(0)["status"]})
            else:
                out.append({k: v for k, v in run.items() if k != "nodes"})
        for mine in launched.values():  # started here, not in history (yet)
            state = mine.state(0)
            out.insert(0, {"run_id": mine.run_id, "command": " ".join(state["argv"]),
                           "status": state["status"]})
        return out

    def _mine(self, run_id: str) -> Launched | None:
        return next((r for r in self.server.launcher.started() if r.run_id == run_id), None)

    def _run(self, run_id: str) -> None:
        mine = self._mine(run_id)
        if mine is not None and mine.active:
            # from its progress file alone: the catalog waits for the process to exit
            self._json(HTTPStatus.OK, mine.state())
            return
        history = next((r for r in self.server.catalog.data().get("runs", [])
                        if r["run_id"] == run_id), None)
        if mine is not None and history is None:
            self._json(HTTPStatus.OK, mine.state())
        elif history is not None:
            extra = ({"log": mine.state()["log"], "exit_code": mine.exit_code}
                     if mine is not None else {})
            self._json(HTTPStatus.OK, {**history, **extra})
        else:
            self._error(HTTPStatus.NOT_FOUND, f"no run {run_id!r}")

    # ---- POST ---------------------------------------------------------------------
    def _authorized(self) -> bool:
        given = self.headers.get("Authorization", "")
        token = given[len("Bearer "):] if given.startswith("Bearer ") else ""
        if not token or not hmac.compare_digest(token, self.server.token):
            self._error(HTTPStatus.UNAUTHORIZED,
                        "a token is needed: Authorization: Bearer <token>")
            return False
        origin = self.headers.get("Origin")
        if origin is not None and origin not in {f"http://{h}" for h in self.server.hosts()}:
            self._error(HTTPStatus.FORBIDDEN, f"requests from {origin} are not accepted")
            return False
        return True

    def _read_body(self) -> bytes | None:
        """The request's body, read before anything is answered: on a kept-alive
        connection an unread body would be taken for the next request. None (and the
        connection closed) when it is too large to read."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > 1_000_000:
            self.close_connection = True
            return None
        return self.rfile.read(length) if length else b""

    def _body(self, raw: bytes) -> dict[str, Any]:
        try:
            value = json.loads(raw or b"{}")
        except ValueError:
            raise BadRequest("the body is not JSON") from None
        if not isinstance(value, dict):
            raise BadRequest("the body must be a JSON object")
        return value

    def do_POST(self) -> None:  # noqa: N802 - the base's name
        raw = self._read_body()
        if raw is None:
            self._error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "the body is too large")
            return
        if not self._allowed_host() or not self._authorized():
            return
        path = unquote(urlsplit(self.path).path)
        try:
            body = self._body(raw)
            if path == "/api/runs":
                self._launch(run_argv(body))
            elif path.startswith("/api/runs/") and path.endswith("/retry"):
                if body:
                    raise BadRequest("a retry takes no fields: it repeats the run's own")
                self._retry(path[len("/api/runs/"):-len("/retry")])
            elif path.startswith("/api/runs/") and path.endswith("/cancel"):
                if body:
                    raise BadRequest("a cancel takes no fields")
                self._cancel(path[len("/api/runs/"):-len("/cancel")])
            else:
                self._error(HTTPStatus.NOT_FOUND, "not found")
        except BadRequest as exc:
            self._error(HTTPStatus.BAD_REQUEST, str(exc))

    def _retry(self, run_id: str) -> None:
        """``braid retry`` of the last run, decided as the command decides: with nothing
        failed or skipped in target/braid/run_results.json it says so (200, as the command
        exits 0) and launches nothing."""
        last = self.server.last_run()
        if last is None or run_id != last.run_id:
            self._error(HTTPStatus.CONFLICT,
                        f"only the last run can be retried (the last run is "
                        f"{last.run_id if last else None}); braid retry repeats what the "
                        "last run left failed or skipped")
            return
        if not last.again:
            self._json(HTTPStatus.OK, {"status": "nothing to retry", "run_id": None,
                                       "message": NOTHING_TO_RETRY})
            return
        self._launch(["retry"], retry_of=run_id)

    def _cancel(self, run_id: str) -> None:
        """SIGTERM to a run launched here; it ends ``cancelled`` (braid exits 143)."""
        mine = self._mine(run_id)
        if mine is None:
            self._error(HTTPStatus.NOT_FOUND, f"no run {run_id!r} was launched here; a run "
                        "from a terminal is stopped there (Ctrl-C)")
        elif not mine.active or mine.finished():
            self._error(HTTPStatus.CONFLICT, f"run {run_id} has already ended "
                        f"({mine.state(0)['status']})")
        else:
            mine.cancel()
            self._json(HTTPStatus.ACCEPTED, {"run_id": run_id, "status": "cancelling"})

    def _launch(self, argv: list[str], **extra: Any) -> None:
        with self.server.launch_lock:
            busy = self.server.launcher.busy()
            holder = None if busy else self.server.lock_holder()
            if busy is not None or holder is not None:
                why = (f"run {busy.run_id} started here is still going" if busy is not None
                       else f"the target is being run: {holder}")
                self._error(HTTPStatus.CONFLICT, why)
                return
            run = self.server.launcher.launch(argv, **extra)
        self._json(HTTPStatus.ACCEPTED, {"run_id": run.run_id})


def tick(server: Server, schedules: list[Any], every: float, holder: Callable[[], str | None],
         stop: threading.Event, seen: Callable[[Any], Any] = lambda now: {}) -> None:
    """braid.yml's schedules, checked once a minute (``every`` seconds): when one is due and
    nothing runs, ``braid run --due`` is launched, as cron would call it. ``seen(now)``:
    when braid first saw each schedule (schedules.seen)."""
    from dbt_braid.schedules import clock
    from dbt_braid.schedules.status import due

    while not stop.wait(every):
        launcher = server.launcher
        if launcher.busy() is not None:
            continue
        try:
            runs = server.catalog.data().get("runs", [])
        except Exception:  # noqa: BLE001 - the next tick tries again
            continue
        now = clock.now()
        if not due(schedules, runs, now, seen(now)) or holder() is not None:
            continue
        with server.launch_lock:
            if launcher.active() is None:
                launcher.launch(["run", "--due"], tick=True)


def new_token(given: str | None) -> str:
    return given or secrets.token_urlsafe(24)


def run_ended(catalog: Catalog) -> Callable[[Launched], None]:
    return lambda run: catalog.invalidate()
