"""Plain helpers of the tests (no fixtures: those are in conftest.py): small real dbt projects
on real DuckDB files, the real ``braid`` CLI, PostgreSQL profiles. A module, not conftest, so
that test modules in any folder import it (pytest.ini puts tests/ on sys.path)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
INTEGRATION = REPO / "integration_tests"
#: the ``packages.yml`` of a project that installs braid's dbt package from this checkout
BRAID_PACKAGE = {"packages.yml": f"packages:\n  - local: {REPO}\n"}


def source_p_yaml(schema: str | None = None, table: str = "", after: str = "") -> str:
    """``models/sources.yml`` declaring the Python source table ``py.p`` that reads model
    ``a``: ``schema`` of the source, ``table`` more keys of the table (one YAML line each,
    e.g. ``columns: [...]``), ``after`` more top-level YAML (``models:``, ``exposures:``)."""
    lines = ["version: 2", "sources:", "  - name: py"]
    if schema:
        lines.append(f"    schema: {schema}")
    lines += ["    tables:", "      - name: p",
              "        config: {meta: {braid: {python: p.make, depends_on: [a]}}}"]
    lines += [f"        {line}" for line in table.splitlines() if line.strip()]
    return "\n".join(lines) + "\n" + textwrap.dedent(after)


#: a Python source table ``py.p`` that copies model ``a`` (tests add ``a`` and readers of p)
SOURCE_P_FROM_A = {
    "models/sources.yml": source_p_yaml(),
    "python_assets/p.py": "def make(a):\n    return a\n",
}


def copy_integration_project(dest: Path) -> Path:
    """integration_tests/ copied to ``dest`` (tests never write into the checkout), with
    its ``packages.yml`` pointing at this repository."""
    import shutil

    shutil.copytree(INTEGRATION, dest, ignore=shutil.ignore_patterns(
        "target", "dbt_packages", "logs", ".braid", "*.duckdb", "package-lock.yml"))
    (dest / "packages.yml").write_text(BRAID_PACKAGE["packages.yml"])
    return dest
BRAID = str(Path(sys.executable).with_name("braid"))
DBT = str(Path(sys.executable).with_name("dbt"))


@dataclass
class Project:
    """A throwaway dbt project in a temp folder, with a DuckDB profile beside it."""

    root: Path
    #: environment of its commands (a template's own; make_project's set it for the test)
    env: dict[str, str] = field(default_factory=dict)

    @property
    def db(self) -> Path:
        return self.root / "warehouse.duckdb"

    def write(self, files: Mapping[str, str]) -> None:
        for rel, text in files.items():
            path = self.root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text).lstrip())

    def braid(self, *args: str, timeout: int = 300, env: Mapping[str, str] | None = None,
              command: str = BRAID) -> subprocess.CompletedProcess[str]:
        """Run the real ``braid`` command in this project; output captured as text."""
        full_env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **self.env,
                    **(env or {})}
        return subprocess.run(
            [command, *args, "--profiles-dir", str(self.root), "--project-dir", str(self.root)],
            cwd=self.root, capture_output=True, text=True, timeout=timeout, env=full_env,
        )

    def dbt(self, *args: str, env: Mapping[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
        """Plain ``dbt`` (the same installation's) in this project, as :meth:`braid` runs
        braid: the side braid is compared with."""
        return self.braid(*args, env=env, command=DBT)

    def tables(self) -> set[str]:
        """Names of the tables and views in the DuckDB file; empty when it was never created."""
        if not self.db.exists():
            return set()
        return {row[0] for row in self.sql("select table_name from information_schema.tables")}

    def sql(self, query: str) -> list[tuple]:
        import duckdb

        try:
            con = duckdb.connect(str(self.db), read_only=True)
        except duckdb.ConnectionException:
            # dbt ran in this process and still holds the file open read-write
            con = duckdb.connect(str(self.db))
        try:
            return con.execute(query).fetchall()
        finally:
            con.close()


def signal_when(project: Project, marker: Path, signum: int, *args: str,
                env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``braid run ARGS`` as a real process, sent ``signum`` once ``marker`` exists (an
    asset writes it: the env var named after the marker's stem, upper-cased, says where)."""
    import time

    full_env = {**os.environ, "BRAID_TEST_DB": str(project.db),
                "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", marker.stem.upper(): str(marker),
                **(env or {})}
    proc = subprocess.Popen([BRAID, "run", "--profiles-dir", str(project.root), "--project-dir",
                             str(project.root), *args], cwd=project.root, env=full_env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the asset never started"
        time.sleep(0.02)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def pg_profile(target: str = "pg", schema: str = "public", threads: int = 4,
               name: str = "proj") -> str:
    """profiles.yml for a PostgreSQL target on the test server (pgserver.py's env vars)."""
    return f"""
        {name}:
          target: {target}
          outputs:
            {target}:
              type: postgres
              host: "{{{{ env_var('BRAID_PG_HOST') }}}}"
              port: "{{{{ env_var('BRAID_PG_PORT') | as_number }}}}"
              user: "{{{{ env_var('BRAID_PG_USER') }}}}"
              password: "{{{{ env_var('BRAID_PG_PASSWORD', '') }}}}"
              dbname: "{{{{ env_var('BRAID_PG_DATABASE') }}}}"
              schema: {schema}
              threads: {threads}
        """


def pg_rows(pg_server, database: str, query: str) -> list[tuple]:
    """The rows of ``query`` in ``database`` on the test server."""
    con = pg_server.connect(database)
    try:
        cur = con.cursor()
        cur.execute(query)
        return cur.fetchall()
    finally:
        con.close()


def project_files(name: str = "proj") -> dict[str, str]:
    return {
        "dbt_project.yml": f"""
            name: {name}
            version: "1.0"
            config-version: 2
            profile: {name}
            """,
        "profiles.yml": f"""
            {name}:
              target: dev
              outputs:
                dev:
                  type: duckdb
                  path: "{{{{ env_var('BRAID_TEST_DB') }}}}"
                  threads: 4
            """,
    }


#: what a copy of a project leaves behind: dbt's partial-parse file holds the original's paths
_NOT_COPIED = shutil.ignore_patterns("partial_parse.msgpack")


def template_project(tmp_path_factory: pytest.TempPathFactory, files: Mapping[str, str],
                     *commands: tuple[str, ...], name: str = "proj",
                     base: Project | None = None) -> Project:
    """A project made once for a module (a module-scoped fixture calls this): ``files`` (over
    a copy of the template ``base``, when given), then each of ``commands`` run by the real
    ``braid`` (each must succeed). Tests start from a copy of it (:func:`copy_project`), so
    the setup they share runs once."""
    root = tmp_path_factory.mktemp("template") / name
    if base is not None:
        shutil.copytree(base.root, root, symlinks=True, ignore=_NOT_COPIED)
    root.mkdir(exist_ok=True)
    project = Project(root, env={"BRAID_TEST_DB": str(root / "warehouse.duckdb"),
                                 "BRAID_STORE_DIR": str(root / ".braid" / "store")})
    project.write({**({} if base else project_files(name)), **files})
    for args in commands:
        done = project.braid(*args)
        assert done.returncode == 0, done.stdout + done.stderr
    return project


def copy_to(template: Project, root: Path) -> Project:
    """A copy of ``template`` at ``root`` with its own warehouse and store (its environment
    its own, not the test's: for tests that hold more than one project)."""
    shutil.copytree(template.root, root, symlinks=True, ignore=_NOT_COPIED)
    return Project(root, env={"BRAID_TEST_DB": str(root / "warehouse.duckdb"),
                              "BRAID_STORE_DIR": str(root / ".braid" / "store")})


def copy_project(template: Project, make_project: Callable[..., Project]) -> Project:
    """A new project of the test (``make_project``'s, its environment set) holding all that
    ``template`` holds: files, dbt_packages/, target/, the DuckDB file, the store. dbt's
    partial-parse file is left behind (its paths are the template's): the copy's first
    command parses in full, as the template's first did."""
    project = make_project(name=template.root.name)
    shutil.copytree(template.root, project.root, symlinks=True, dirs_exist_ok=True,
                    ignore=_NOT_COPIED)
    return project
