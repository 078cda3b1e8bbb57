"""The pickle store's root: paths outside it are refused, a relative one is the project's."""

from __future__ import annotations

from pathlib import Path

import pytest
from dbt_braid.io.base import IOEnv
from dbt_braid.io.pickle_store import PickleStore, store_root


@pytest.mark.parametrize("package, name", [
    ("proj", "../x"), ("..", "x"), ("proj", "/etc/passwd"), ("proj", "a\\b"), ("", "x")])
def test_the_store_refuses_paths_outside_its_root(tmp_path: Path, package, name) -> None:
    store = PickleStore(tmp_path / "store")
    with pytest.raises(ValueError):
        store.path_for(package, name)


def test_a_relative_store_dir_is_relative_to_the_project(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("BRAID_STORE_DIR", "stored")
    monkeypatch.chdir(tmp_path)
    env = IOEnv(project_dir=tmp_path / "project", target={"name": "dev"}, adapter_type="duckdb")
    assert store_root(env) == tmp_path / "project" / "stored" / "dev"
