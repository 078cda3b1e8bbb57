"""Fixtures of the real-runs tier (tests/README.md): throwaway dbt projects (``make_project``),
the PostgreSQL test server, and the ``postgres`` / ``browser`` markers given to the tests that
need one. The plain helpers are in ../helpers.py."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from helpers import Project, project_files


@pytest.fixture
def make_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Project]:
    """``make_project(files)``: a dbt project with ``files`` (path -> text, dedented)."""

    def make(files: Mapping[str, str] | None = None, name: str = "proj") -> Project:
        root = tmp_path / name
        root.mkdir(parents=True, exist_ok=True)
        project = Project(root)
        monkeypatch.setenv("BRAID_TEST_DB", str(project.db))
        monkeypatch.setenv("BRAID_STORE_DIR", str(root / ".braid" / "store"))
        project.write({**project_files(name), **(files or {})})
        return project

    return make


@pytest.fixture(scope="session")
def pg_server():
    """A PostgreSQL server for the tests (tests/pgserver.py). It fails, not skips, in CI."""
    import pgserver

    try:
        server = pgserver.start()
    except (pgserver.PgUnavailable, OSError, subprocess.SubprocessError) as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI and could not start: {exc}")
        pytest.skip(f"no PostgreSQL server: {exc}")
    yield server
    server.stop()


@pytest.fixture
def pg_database(pg_server, request):
    """A new, empty database on the test server; its name."""
    import re
    import uuid

    name = re.sub(r"[^a-z0-9_]", "_", request.node.name.lower())[:40]
    return pg_server.create_database(f"t_{name}_{uuid.uuid4().hex[:6]}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark what needs a PostgreSQL server or Chromium (``-m "not postgres and not browser"``
    leaves them out). Markers, not folders: many such tests are one parameter of a test that
    also runs on DuckDB (``[postgres]``), or ask for the server only for that parameter."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & {"pg_server", "pg_database"} or "postgres" in item.name \
                or "postgres" in item.nodeid.split("::")[0]:
            item.add_marker(pytest.mark.postgres)
        if "driver" in fixtures or "chromium" in item.name:
            item.add_marker(pytest.mark.browser)
