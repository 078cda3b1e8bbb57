"""braid's lines and an asset's log records go through dbt's event system: console and
logs/dbt.log with dbt's timestamps, ``--log-format json``, ``--quiet`` and ``--debug`` as
dbt's own lines follow them."""

from __future__ import annotations

import json
import re

from helpers import SOURCE_P_FROM_A

LOGGING = {
    **SOURCE_P_FROM_A,
    "models/a.sql": "{{ config(materialized='table') }} select 1 as id",
    "python_assets/p.py": """
        import logging


        def make(a, context):
            context.log.info("predicting %s days", 3)
            logging.getLogger("somewhere.else").warning("careful with %s", "that")
            return a
        """,
}


def test_asset_logs_reach_console_and_dbt_log(make_project) -> None:
    project = make_project(LOGGING)
    done = project.braid("run")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "p: predicting 3 days" in done.stdout
    assert "p: careful with that" in done.stdout
    log = (project.root / "logs" / "dbt.log").read_text()
    assert "p: predicting 3 days" in log and "START python asset p" in log


def test_log_format_json_makes_every_line_json(make_project) -> None:
    project = make_project(LOGGING)
    done = project.braid("run", "--log-format", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    notes = [e["data"]["msg"] for e in lines if e["info"]["name"] == "Note"]
    assert "p: predicting 3 days" in notes
    # the asset's START line is dbt's own node event since issue 25 item 5 (was a Note)
    assert any(re.match(r"\d+ of \d+ START python asset p ", e["info"]["msg"])
               for e in lines if e["info"]["name"] == "LogStartLine")
    assert any(e["info"]["name"] == "LogModelResult" for e in lines)  # dbt's own, same stream


def test_quiet_silences_and_debug_explains(make_project) -> None:
    project = make_project(LOGGING)
    quiet = project.braid("run", "--quiet")
    assert quiet.returncode == 0, quiet.stdout + quiet.stderr
    assert "START python asset" not in quiet.stdout
    assert "predicting" not in quiet.stdout
    loud = project.braid("run", "--debug")
    assert loud.returncode == 0
    assert "braid plan:" in loud.stdout


def test_braid_only_flags_do_not_break_logging(make_project) -> None:
    """Values dbt's parser would refuse (``--exclude-resource-type python``) stay braid's."""
    project = make_project(LOGGING)
    done = project.braid("build", "--exclude-resource-type", "python", "--log-format", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    assert any(e["info"]["name"] == "Note" for e in lines)
