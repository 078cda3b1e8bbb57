"""The pickle store never touches a file outside its folder (issue 14, point 7)."""

from __future__ import annotations

import pytest
from helpers import Project

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


