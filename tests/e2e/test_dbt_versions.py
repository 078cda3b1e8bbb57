"""What differs between dbt-core 1.10, 1.11 and 1.12 (dbt_braid.dbtcore.versions), checked on
the dbt this suite runs on: scripts/test.sh runs this file on each supported release.

Each test states what dbt itself does on the installed release and checks that braid agrees,
so the same assertions hold on every version without a version switch in the test.
"""

from __future__ import annotations

import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

from dbt_braid.dbtcore import versions
from helpers import BRAID, SOURCE_P_FROM_A

DBT = str(Path(sys.executable).with_name("dbt"))


def _dbt(project, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DBT, *args, "--profiles-dir", str(project.root), "--project-dir", str(project.root)],
        cwd=project.root, capture_output=True, text=True, timeout=300,
    )


def _lines(out: str) -> list[str]:
    """The listing lines of ``ls`` output (dbt may print log lines before them)."""
    return sorted(
        line for line in out.splitlines()
        if line and not re.match(r"^\d\d:\d\d:\d\d", line) and " " not in line
    )


def test_version_names_installed_dbt_and_the_supported_releases() -> None:
    done = subprocess.run([BRAID, "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    installed = version("dbt-core")
    assert f"dbt-core {installed} (braid supports dbt-core 1.10, 1.11 and 1.12)" in done.stdout
    assert versions.is_supported()
    assert "warning" not in done.stdout


SELECTOR_PROJECT = {
    "models/a.sql": "select 1 as id",
    "models/b.sql": "select * from {{ source('py', 'p') }}",
    "models/c.sql": "select 2 as id",
    **SOURCE_P_FROM_A,
    "selectors.yml": """
        selectors:
          - name: feeds_b
            definition: '+b'
        """,
}


def test_selector_method_as_the_installed_dbt_has_it(make_project) -> None:
    """1.12's ``selector:`` method: braid picks what dbt picks, the Python asset standing in
    for its source; where dbt lacks the method, both refuse it (exit 2)."""
    project = make_project(SELECTOR_PROJECT)
    theirs = _dbt(project, "ls", "-s", "selector:feeds_b", "--resource-type", "model", "source")
    mine = project.braid("ls", "-s", "selector:feeds_b")
    if versions.has_selector_method():
        assert theirs.returncode == 0, theirs.stdout + theirs.stderr
        assert "proj.b" in _lines(theirs.stdout)
        assert mine.returncode == 0, mine.stderr
        # the selector's own definition, walked through the Python asset to its input
        assert _lines(mine.stdout) == _lines(project.braid("ls", "-s", "+b").stdout)
        assert _lines(mine.stdout) == ["proj.a", "proj.b", "python:p"]
    else:
        assert theirs.returncode != 0
        assert mine.returncode == 2
        assert "selector" in mine.stderr and "Traceback" not in mine.stderr


FUNCTION_PROJECT = {
    "functions/double_it.sql": "x * 2",
    "functions/schema.yml": """
        functions:
          - name: double_it
            arguments: [{name: x, data_type: integer}]
            returns: {data_type: integer}
        """,
    "models/a.sql": "select {{ function('double_it') }}(21) as id",
    "models/b.sql": "select * from {{ ref('a') }}",
}


def test_user_defined_functions_are_graph_members_where_dbt_has_them(make_project) -> None:
    """1.11 added functions as graph members: braid lists them (and walks through them) as
    ``dbt ls`` does; on 1.10 the folder means nothing to dbt, nor to braid."""
    files = dict(FUNCTION_PROJECT)
    if versions.dbt_minor() < (1, 11):
        files["models/a.sql"] = "select 42 as id"  # no function() in 1.10's Jinja
    project = make_project(files)
    theirs = _dbt(project, "ls", "-s", "+b", "--resource-type", "all")
    mine = project.braid("ls", "-s", "+b", "--resource-type", "all")
    assert theirs.returncode == 0 and mine.returncode == 0, theirs.stdout + mine.stderr
    assert _lines(mine.stdout) == _lines(theirs.stdout)
    has_function = any("double_it" in line for line in _lines(mine.stdout))
    assert has_function == (versions.dbt_minor() >= (1, 11))


def test_ls_json_has_the_keys_dbt_ls_json_has(make_project) -> None:
    project = make_project({"models/a.sql": "select 1 as id",
                            "models/b.sql": "select * from {{ ref('a') }}"})
    import json

    theirs = [json.loads(line) for line in _dbt(project, "ls", "-s", "b", "--output", "json",
                                                  "--quiet").stdout.splitlines() if line]
    mine = [json.loads(line) for line in project.braid("ls", "-s", "b", "--output",
                                                      "json").stdout.splitlines() if line]
    assert mine == theirs and len(mine) == 1
    assert ("direct_parents" in mine[0]) == (versions.dbt_minor() >= (1, 12))
