"""A throwaway PostgreSQL server for the tests, from Debian's ``postgresql`` package.

``scripts/test.sh`` installs the package when it is missing. The server gets its own data
directory in a temp folder, listens on a free port on 127.0.0.1 (so it never meets a server
the machine already runs), trusts local connections, skips fsync (its data is thrown
away), and is stopped and deleted when the test session ends.

Set ``BRAID_PG_HOST`` (and ``BRAID_PG_PORT``, ``BRAID_PG_USER``, ``BRAID_PG_PASSWORD``) to
use a server of your own instead.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class PgServer:
    host: str
    port: int
    user: str
    password: str = ""
    data_dir: Path | None = None
    _run_as: list[str] = field(default_factory=list)

    def connect(self, dbname: str = "postgres", autocommit: bool = True):  # noqa: ANN201
        import psycopg2

        con = psycopg2.connect(host=self.host, port=self.port, user=self.user,
                               password=self.password, dbname=dbname)
        con.autocommit = autocommit
        return con

    def create_database(self, name: str) -> str:
        con = self.connect()
        try:
            con.cursor().execute(f'create database "{name}"')
        finally:
            con.close()
        return name

    def env(self, dbname: str) -> dict[str, str]:
        """The variables integration_tests/profiles.yml reads for its postgres target."""
        return {"BRAID_PG_HOST": self.host, "BRAID_PG_PORT": str(self.port),
                "BRAID_PG_USER": self.user, "BRAID_PG_PASSWORD": self.password,
                "BRAID_PG_DATABASE": dbname}

    def stop(self) -> None:
        if self.data_dir is None:
            return
        subprocess.run([*self._run_as, _bin("pg_ctl"), "-D", str(self.data_dir), "-m",
                        "immediate", "-w", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(self.data_dir.parent, ignore_errors=True)


class PgUnavailable(RuntimeError):
    pass


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                   key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    if not found:
        raise PgUnavailable(
            f"{name} not found under /usr/lib/postgresql/*/bin: install Debian's postgresql "
            "package (scripts/test.sh does), or set BRAID_PG_HOST to a server of your own")
    return found[-1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start() -> PgServer:
    """The server to test against: the one named by BRAID_PG_HOST, else a new throwaway one."""
    if os.environ.get("BRAID_PG_HOST"):
        return PgServer(os.environ["BRAID_PG_HOST"], int(os.environ.get("BRAID_PG_PORT", "5432")),
                        os.environ.get("BRAID_PG_USER", "postgres"),
                        os.environ.get("BRAID_PG_PASSWORD", ""))
    initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
    root = Path(tempfile.mkdtemp(prefix="braid-pg-"))
    data = root / "data"
    run_as: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: run it as Debian's postgres user
        run_as = ["runuser", "-u", "postgres", "--"]
        shutil.chown(root, "postgres")
        root.chmod(0o755)
    server = PgServer("127.0.0.1", 0, "postgres", "", data, run_as)
    try:
        _check(subprocess.run([*run_as, initdb, "-D", str(data), "-U", "postgres", "-A", "trust",
                               "-E", "UTF8", "--locale=C", "--no-sync"],
                              capture_output=True, text=True, timeout=120), "initdb")
        for _attempt in range(3):  # a free port can be taken between choosing and binding
            server.port = _free_port()
            options = (f"-c listen_addresses=127.0.0.1 -p {server.port} "
                       f"-c unix_socket_directories='{root}' -c fsync=off "
                       "-c synchronous_commit=off -c full_page_writes=off "
                       "-c max_connections=100")
            done = subprocess.run([*run_as, pg_ctl, "-D", str(data), "-o", options, "-l",
                                   str(root / "server.log"), "-w", "-t", "60", "start"],
                                  capture_output=True, text=True, timeout=120)
            if done.returncode == 0:
                return server
        log = (root / "server.log").read_text() if (root / "server.log").exists() else ""
        _check(done, "pg_ctl start", log)
    except BaseException:
        server.stop()
        raise
    return server


def _check(done: subprocess.CompletedProcess[str], what: str, log: str = "") -> None:
    if done.returncode != 0:
        raise PgUnavailable(f"{what} failed (exit {done.returncode}): "
                            f"{(done.stderr or done.stdout).strip()} {log[-500:]}")
