"""Faults reported as what they are (issue 14, point 6)."""

from __future__ import annotations

import subprocess
import sys

from helpers import SOURCE_P_FROM_A, Project

HOLD = """
import sys, time
import duckdb
con = duckdb.connect(sys.argv[1])
con.execute("create table if not exists held as select 1 as id")
print("holding", flush=True)
time.sleep(120)
"""


def test_a_duckdb_file_held_by_another_process_is_one_line(make_project) -> None:
    project: Project = make_project({**SOURCE_P_FROM_A, "models/a.sql": "select 1 as id"})
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(project.db)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        done = project.braid("run")
    finally:
        holder.kill()
        holder.wait()
    assert done.returncode == 2, done.stdout + done.stderr
    output = done.stdout + done.stderr
    assert "Traceback" not in output, output
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert "warehouse.duckdb" in lines[0] and f"PID {holder.pid}" in lines[0], lines[0]
    assert "profiles.yml" in lines[0] and "another process" in lines[0]
    # nothing ran: once the holder is gone the file has only its own table
    assert project.tables() == {"held"}
