"""``context`` as a dbt user expects it: ``vars`` with dbt's ``var()`` meaning, the run's
flags, and ``ref``/``source`` giving relations quoted as the target quotes them."""

from __future__ import annotations

import json

from helpers import source_p_yaml

CONTEXT_PROJECT = {
    "dbt_project.yml": """
        name: proj
        version: "1.0"
        config-version: 2
        profile: proj
        vars:
          horizon: 7
          region: eu
          proj: {region: scoped}
        """,
    "models/a.sql": "{{ config(materialized='table') }} select 1 as id union all select 2",
    "models/sources.yml": source_p_yaml(schema="py"),
    "python_assets/p.py": """
        import json
        import os

        from dbt_braid import AssetContext



        def make(a, context: AssetContext):
            rows = context.sql(f"select count(*) as n from {context.ref('a')}")
            seen = {
                "horizon": context.vars["horizon"],
                "region": context.vars["region"],
                "full_refresh": context.flags.full_refresh,
                "target": context.flags.target,
                "command": context.flags.command,
                "ref": context.ref("a"),
                "source": context.source("py", "p"),
                "count": int(rows["n"][0]),
            }
            with open(os.environ["CONTEXT_OUT"], "w") as out:
                json.dump(seen, out)
            try:
                context.ref("nope")
            except KeyError as exc:
                seen["missing"] = str(exc)
            with open(os.environ["CONTEXT_OUT"], "w") as out:
                json.dump(seen, out)
            return a
        """,
}


def test_context_vars_flags_and_relations(make_project, tmp_path) -> None:
    project = make_project(CONTEXT_PROJECT)
    out = tmp_path / "seen.json"
    done = project.braid("run", "--vars", "{horizon: 30}", "--full-refresh",
                         env={"CONTEXT_OUT": str(out)})
    assert done.returncode == 0, done.stdout + done.stderr
    seen = json.loads(out.read_text())
    assert seen["horizon"] == 30  # --vars over the project's
    assert seen["region"] == "scoped"  # the package-scoped var over the global one
    assert seen["full_refresh"] is True
    assert seen["target"] == "dev" and seen["command"] == "run"
    assert seen["ref"] == '"warehouse"."main"."a"'
    assert seen["source"] == '"warehouse"."py"."p"'
    assert seen["count"] == 2
    assert "no model, seed or snapshot named 'nope'" in seen["missing"]

    again = project.braid("build", env={"CONTEXT_OUT": str(out)})
    assert again.returncode == 0, again.stdout + again.stderr
    seen = json.loads(out.read_text())
    assert seen["horizon"] == 7 and seen["full_refresh"] is False
    assert seen["command"] == "build"
