"""Third-party plugins from the ``braid`` entry-point group, pip-installed for real.

The fixture pip-installs the example plugin kept in the repository
(examples/braid-run-summary) and three small plugins written here into a folder of their
own, which the real ``braid`` command then sees on PYTHONPATH; ``BRAID_LOAD_PLUGINS``
picks which of them each test loads.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from helpers import REPO, SOURCE_P_FROM_A, Project

PLUGINS = {
    # (distribution, version, entry point, module source)
    "braid-broken": ("0.3.0", "broken", """
        raise ImportError("this plugin needs a library that is not installed")
        """),
    "braid-typo": ("0.2.0", "typo", """
        from dbt_braid import hookimpl

        @hookimpl
        def finsh_run(report):
            pass
        """),
    "braid-quiet-lineage": ("1.0.0", "quiet_lineage", """
        import os
        from pathlib import Path

        from dbt_braid import hookimpl

        braid_replaces = ["dbt_braid.builtins.lineage"]

        if os.environ.get("IMPORT_LOG"):
            with Path(os.environ["IMPORT_LOG"]).open("a") as log:
                log.write("imported\\n")

        @hookimpl
        def write_artifacts(report):
            (report.target_dir / "quiet.txt").write_text(str(len(report.results)))
        """),
}


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the plugins pip-installed into it (``pip install --target``)."""
    root = tmp_path_factory.mktemp("plugins")
    sources = [REPO / "examples" / "braid-run-summary"]
    for dist, (version, entry, code) in PLUGINS.items():
        module = dist.replace("-", "_")
        folder = root / "src" / dist
        folder.mkdir(parents=True)
        (folder / f"{module}.py").write_text(textwrap.dedent(code).lstrip())
        (folder / "pyproject.toml").write_text(textwrap.dedent(f"""
            [build-system]
            requires = ["setuptools>=77"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "{dist}"
            version = "{version}"

            [project.entry-points.braid]
            {entry} = "{module}"

            [tool.setuptools]
            py-modules = ["{module}"]
            """))
        sources.append(folder)
    target = root / "site"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps",
         "--target", str(target), *map(str, sources)],
        capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return target


def braid(project: Project, site: Path, load: str | None, *args: str,
          **env: str) -> subprocess.CompletedProcess[str]:
    extra = {"PYTHONPATH": str(site), **env}
    if load is not None:
        extra["BRAID_LOAD_PLUGINS"] = load
    return project.braid(*args, env=extra)


@pytest.fixture
def project(make_project) -> Project:
    return make_project({"models/a.sql": "select 1 as id union all select 2",
                         "models/b.sql": "select * from {{ source('py', 'p') }}",
                         **SOURCE_P_FROM_A})


def test_example_plugin_is_discovered_in_a_real_run(project: Project, site: Path) -> None:
    done = braid(project, site, "braid-run-summary", "run")
    assert done.returncode == 0, done.stdout + done.stderr
    summary = (project.root / "target" / "braid" / "summary.txt").read_text().splitlines()
    assert summary[0].startswith("braid run ")
    assert "success, 3 nodes in 2 dbt invocations" in summary[0]
    assert summary[1] == "success 3"
    listed = braid(project, site, "braid-run-summary", "plugins", "--output", "json")
    assert json.loads(listed.stdout) == [{
        "name": "run_summary", "hooks": ["finish_run"], "builtin": False,
        "distribution": "braid-run-summary", "version": "0.1.0", "error": None}]


def test_example_plugin_runs_its_notifier_command(project: Project, site: Path) -> None:
    out = project.root / "notified.txt"
    done = braid(project, site, "braid-run-summary", "run",
                 BRAID_SUMMARY_COMMAND=f"cat > {out}")
    assert done.returncode == 0, done.stdout + done.stderr
    assert out.read_text() == (project.root / "target/braid/summary.txt").read_text()


def test_a_plugin_that_fails_to_import_is_reported_and_the_run_goes_on(
        project: Project, site: Path) -> None:
    done = braid(project, site, "braid-broken,braid-run-summary", "run")
    assert done.returncode == 0, done.stdout + done.stderr
    assert ("braid: plugin braid-broken 0.3.0 (entry point 'broken') failed to load: "
            "ImportError: this plugin needs a library that is not installed; running without it"
            ) in done.stderr
    assert (project.root / "target" / "braid" / "summary.txt").exists()
    listed = braid(project, site, "braid-broken", "plugins")
    assert "broken from braid-broken 0.3.0" in listed.stdout
    assert "failed to load: ImportError" in listed.stdout


def test_a_misspelled_hook_is_an_error_before_anything_runs(
        project: Project, site: Path) -> None:
    done = braid(project, site, "braid-typo", "run")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        "braid plugin braid-typo 0.2.0: implements 'finsh_run', which is not a braid hook; "
        "did you mean 'finish_run'?")
    assert project.tables() == set()


def test_braid_load_plugins_limits_which_load(project: Project, site: Path) -> None:
    def names(load: str | None) -> set[str]:
        done = braid(project, site, load, "plugins", "--output", "json")
        assert done.returncode == 0, done.stdout + done.stderr
        return {p["distribution"] for p in json.loads(done.stdout)}

    assert names("") == set()
    assert names("braid-run-summary, braid_quiet_lineage") == {
        "braid-run-summary", "braid-quiet-lineage"}
    assert names("quiet_lineage") == {"braid-quiet-lineage"}  # an entry point's name works too
    # unset: every installed plugin, so the misspelled one stops braid
    everything = braid(project, site, None, "plugins")
    assert everything.returncode == 2 and "finsh_run" in everything.stderr


def test_a_plugin_replaces_a_builtin_and_loads_lazily_once(
        project: Project, site: Path, tmp_path: Path) -> None:
    log = tmp_path / "imports.log"
    done = braid(project, site, "braid-quiet-lineage", "--help", IMPORT_LOG=str(log))
    assert done.returncode == 0 and not log.exists()  # nothing needed plugins yet
    done = braid(project, site, "braid-quiet-lineage", "run", IMPORT_LOG=str(log))
    assert done.returncode == 0, done.stdout + done.stderr
    assert log.read_text() == "imported\n"
    out = project.root / "target" / "braid"
    assert (out / "quiet.txt").read_text() == "3"
    assert (out / "run_results.json").exists() and not (out / "lineage.json").exists()
    listed = braid(project, site, "braid-quiet-lineage", "plugins", "--all", "-o", "json")
    names = {p["name"] for p in json.loads(listed.stdout)}
    assert "dbt_braid.builtins.lineage" not in names
    assert {"dbt_braid.builtins.run_results", "quiet_lineage"} <= names
    assert os.environ.get("BRAID_LOAD_PLUGINS") is None  # the tests' own process is untouched
