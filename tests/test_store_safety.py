"""The pickle store never touches a file outside its folder (issue 14, point 7)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Project
from dbt_braid.io.base import IOEnv
from dbt_braid.io.pickle_store import PickleStore, store_root

EXPOSURE = """
    version: 2
    exposures:
      - name: "{name}"
        type: application
        owner: {{name: me}}
        depends_on: ["ref('a')"]
        config: {{meta: {{braid: {{python: keep.value, depends_on: [a]}}}}}}
    """


@pytest.mark.parametrize("name", ["../../x", "a/b", ".hidden", "x..y"])
def test_an_exposure_name_that_is_not_a_file_name_is_refused(make_project, name) -> None:
    project: Project = make_project({
        "models/a.sql": "select 1 as id",
        "models/exposures.yml": EXPOSURE.format(name=name),
        "python_assets/keep.py": "def value(a):\n    return 1\n",
    })
    outside = project.root.parent / "x.pkl"
    outside.write_bytes(b"not braid's")
    done = project.braid("run")
    assert done.returncode == 2, done.stdout + done.stderr
    lines = [line for line in done.stderr.splitlines() if name in line]
    assert len(lines) == 1 and "models/exposures.yml" in lines[0], done.stderr
    assert "cannot name a Python asset" in lines[0] and "Traceback" not in done.stderr
    assert outside.read_bytes() == b"not braid's"
    assert not project.tables()  # nothing ran


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
