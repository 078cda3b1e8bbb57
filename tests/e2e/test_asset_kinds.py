"""Functions and values braid accepts beyond the plain case (issue 14, point 1): an
``async def`` asset runs to completion, a module in a declared encoding runs, a frame with
MultiIndex columns is refused with the line that fixes it."""

from __future__ import annotations

import json

from helpers import Project

FILES = {
    "models/a.sql": "select 1 as id, 2 as amount",
    "models/sources.yml": """
        version: 2
        sources:
          - name: py
            schema: "{{ target.schema }}_py"
            tables:
              - name: wide
                config: {meta: {braid: {python: kinds.wide, depends_on: [a]}}}
        exposures:
          - name: fetched
            type: application
            owner: {name: me}
            config: {meta: {braid: {python: kinds.fetch, depends_on: [a]}}}
          - name: latin
            type: application
            owner: {name: me}
            config: {meta: {braid: {python: latin_mod.f, depends_on: [a]}}}
        """,
    "python_assets/kinds.py": """
        import asyncio


        async def fetch(a):
            await asyncio.sleep(0.05)
            return {"rows": len(a), "awaited": True}


        def wide(a):
            return a.groupby("id").agg({"amount": ["sum", "max"]})
        """,
}


def _results(project: Project) -> dict[str, dict]:
    doc = json.loads((project.root / "target/braid/run_results.json").read_text())
    return {r["name"]: r for r in doc["results"]}


def test_async_assets_multiindex_frames_and_declared_encodings(make_project) -> None:
    project: Project = make_project(FILES)
    (project.root / "python_assets" / "latin_mod.py").write_bytes(
        "# -*- coding: latin-1 -*-\n\ndef f(a):\n    return 'caf\u00e9'\n".encode("latin-1"))
    done = project.braid("run")
    assert done.returncode == 1, done.stdout + done.stderr  # wide fails, the others run
    results = _results(project)
    assert results["fetched"]["status"] == "success", results["fetched"]
    assert results["latin"]["status"] == "success", results["latin"]
    import pickle

    store = project.root / ".braid" / "store" / "dev" / "proj"
    assert pickle.loads((store / "fetched.pkl").read_bytes()) == {"rows": 1, "awaited": True}
    assert pickle.loads((store / "latin.pkl").read_bytes()) == "caf\u00e9"
    wide = results["wide"]
    assert wide["status"] == "error"
    assert "MultiIndex columns" in wide["message"] and "df.columns = " in wide["message"]
    assert "wide" not in project.tables()
