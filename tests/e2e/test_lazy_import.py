"""Commands that run no Python import no Python (declarations are read from the source).

``braid ls``, ``lineage``, ``status``, ``history`` and a run of SQL models only must succeed
without importing the asset modules: one writes a marker file when imported, one raises.
``braid run`` imports the modules of the assets it runs, and only those, before anything
runs. Where the source cannot say what a name is (a decorator, an assignment, a re-export),
braid imports, as before, and checks the real signature.
"""

from __future__ import annotations

import json
from pathlib import Path

from dbt_braid.dbtcore.project import DbtOptions
from dbt_braid.run import session
from helpers import BRAID_PACKAGE, Project

FILES = {
    **BRAID_PACKAGE,
    "models/a.sql": "{{ config(materialized='table') }} select 1 as id",
    "models/sources.yml": """
        version: 2
        sources:
          - name: py
            schema: py
            tables:
              - name: marked
                config: {meta: {braid: {python: marked.make, depends_on: [a]}}}
              - name: broken
                config: {meta: {braid: {python: raises.make, depends_on: [a]}}}
        """,
    "python_assets/marked.py": """
        import os
        from pathlib import Path

        Path(os.environ["BRAID_TEST_MARKER"]).write_text("imported")


        def make(a):
            return a.assign(seen=1)
        """,
    "python_assets/raises.py": """
        raise RuntimeError("cannot reach the licence server")


        def make(a):
            return a
        """,
}


def _ok(done) -> None:
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_commands_that_run_no_python_import_none(make_project, tmp_path) -> None:
    project: Project = make_project(FILES)
    marker = tmp_path / "imported.txt"
    env = {"BRAID_TEST_MARKER": str(marker)}
    _ok(project.braid("deps", env=env))

    listed = project.braid("ls", "--output", "name", env=env)
    _ok(listed)
    assert {"python:marked", "python:broken"} <= set(listed.stdout.split())
    _ok(project.braid("lineage", env=env))
    assert (project.root / "target/braid/lineage.json").exists()
    _ok(project.braid("run", "-s", "a", env=env))  # SQL only: no Python planned
    assert project.sql("select id from a") == [(1,)]
    status = project.braid("status", "--output", "json", env=env)
    _ok(status)
    rows = [json.loads(line) for line in status.stdout.splitlines() if line.startswith("{")]
    states = {row["name"]: row["state"] for row in rows}
    assert states["marked"] == "stale" and states["broken"] == "stale"
    _ok(project.braid("history", env=env))
    assert not marker.exists(), "a command that runs no Python imported an asset module"

    # a run imports the modules of the assets it runs, and only those
    ran = project.braid("run", "-s", "python:marked", env=env)
    _ok(ran)
    assert marker.read_text() == "imported"
    assert project.sql("select id, seen from py.marked") == [(1, 1)]

    # an asset whose module fails to import is a declaration error, before anything runs
    before = project.sql("select count(*) from py.marked")
    failed = project.braid("run", env=env)
    output = failed.stdout + failed.stderr
    assert failed.returncode == 2, output
    assert "Traceback" not in output
    assert (
        "models/sources.yml: source py.broken: meta.braid.python: importing "
        in failed.stderr
    )
    assert "raises.py raised RuntimeError: cannot reach the licence server" in failed.stderr
    assert "braid: dbt invocation" not in output  # no batch started
    assert project.sql("select count(*) from py.marked") == before


READY_MADE_LOADER = {
    **BRAID_PACKAGE,
    "models/sources.yml": """
        version: 2
        sources:
          - name: files
            tables:
              - name: rates
                config: {meta: {braid: {python: braid.loaders.load_file,
                                        params: {path: data/rates.csv, sep: ","}}}}
        """,
}


def test_ready_made_assets_are_not_imported_to_validate(make_project) -> None:
    """The package's ``braid.loaders.load_file`` goes through the same path: read, not run."""
    project = make_project(READY_MADE_LOADER)
    _ok(project.braid("deps"))
    loaded = session.load(
        DbtOptions(project_dir=str(project.root), profiles_dir=str(project.root)), "ls")
    (asset,) = loaded.assets.values()
    assert not asset.function_ref.loaded
    assert asset.wants_context
    assert asset.function.__name__ == "load_file"  # imported on first use
    assert asset.function_ref.loaded
    assert asset.annotations["context"] == "Any"


FALLBACK_FILES = {
    "models/m.sql": "select 1 as id",
    "models/sources.yml": """
        version: 2
        exposures:
          - name: scaled
            type: ml
            owner: {name: me}
            config: {meta: {braid: {python: forms.scaled, depends_on: [m],
                                    params: {scale: 2}}}}
          - name: partial
            type: ml
            owner: {name: me}
            config: {meta: {braid: {python: forms.horizon_3, depends_on: [m]}}}
          - name: reexported
            type: ml
            owner: {name: me}
            config: {meta: {braid: {python: forms.fit, depends_on: [m],
                                    params: {rounds: 4}}}}
        """,
    "python_assets/forms.py": """
        import functools

        from .impl import fit


        def with_scale(function):
            # the decorator changes the signature: the source's `scaled(m)` is not the truth
            def wrapper(m, scale):
                return len(function(m)) * scale

            return wrapper


        @with_scale
        def scaled(m):
            return m


        def _forecast(m, horizon):
            return {"rows": len(m), "horizon": horizon}


        horizon_3 = functools.partial(_forecast, horizon=3)
        """,
    "python_assets/impl.py": """
        def fit(m, rounds):
            return {"rows": len(m), "rounds": rounds}
        """,
}


def test_names_the_source_cannot_explain_are_imported(make_project) -> None:
    project = make_project(FALLBACK_FILES)
    listed = project.braid("ls", "--output", "name")
    _ok(listed)
    assert {"python:scaled", "python:partial", "python:reexported"} <= set(listed.stdout.split())
    ran = project.braid("run")
    _ok(ran)
    results = json.loads((project.root / "target/braid/run_results.json").read_text())
    assert {r["name"]: r["status"] for r in results["results"]} == {
        "m": "success", "scaled": "success", "partial": "success", "reexported": "success"}

    # the imported signatures are checked: a param the re-exported function lacks is an error
    yml = project.root / "models/sources.yml"
    yml.write_text(yml.read_text().replace("params: {rounds: 4}", "params: {round: 4}"))
    bad = project.braid("ls")
    assert bad.returncode == 2, bad.stdout + bad.stderr
    assert ("models/sources.yml: exposure reexported: meta.braid.params.round: "
            "forms.fit() has no parameter 'round'") in bad.stderr


SYNTAX_ERROR_BESIDE_A_FINE_MODULE = {
    "models/m.sql": "select 1 as id",
    "models/sources.yml": """
        version: 2
        exposures:
          - name: e
            type: ml
            owner: {name: me}
            config: {meta: {braid: {python: other.f, depends_on: [m]}}}
          - name: ok
            type: ml
            owner: {name: me}
            config: {meta: {braid: {python: fine.g, depends_on: [m]}}}
        """,
    "python_assets/other.py": "def f(m:\n    return m\n",
    "python_assets/fine.py": (
        "import os\nfrom pathlib import Path\n"
        "Path(os.environ['BRAID_TEST_MARKER']).write_text('imported')\n\n"
        "def g(m):\n    return m\n"),
}


def test_syntax_error_found_without_importing(make_project, tmp_path) -> None:
    marker: Path = tmp_path / "imported.txt"
    project = make_project(SYNTAX_ERROR_BESIDE_A_FINE_MODULE)
    done = project.braid("ls", env={"BRAID_TEST_MARKER": str(marker)})
    assert done.returncode == 2
    assert "exposure e: meta.braid.python: syntax error in" in done.stderr
    assert "python_assets/other.py line 1" in done.stderr
    assert not marker.exists()
