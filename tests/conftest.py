"""What every tier shares (tests/README.md). Each tier has its own conftest: tests/unit's
keeps its tests pure, tests/e2e's makes real projects and the PostgreSQL server."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session", autouse=True)
def _unfreeze_gc_at_exit():
    """In-process loads freeze the manifest for the GC (DbtProject.parse); thaw at the end so
    DuckDB's native objects are released before the interpreter exits."""
    yield
    import gc

    gc.unfreeze()
    gc.collect()
