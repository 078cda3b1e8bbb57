"""One console stream for a braid run (issue 13, point 3), read off the real ``braid`` CLI.

A run of two dbt invocations with Python assets between them must print as one dbt run:
dbt's header once, one ``k of N`` numbering over both kinds in causal order, SKIP lines for
what braid did not run, one summary in dbt's words agreeing with the run's results.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from helpers import Project

ANSI = re.compile(r"\x1b\[[0-9;]*m")
NUMBERED = re.compile(r"^\S+\s+(\d+) of (\d+) (START|OK|ERROR|SKIP|NO-OP|PASS|FAIL|WARN)\b(.*)$")
DONE = re.compile(r"Done\. (.*)$")
#: dbt's words for a failure in the summary block (1.12 writes "[ERROR]: in", earlier
#: releases "Failure in")
FAILURE_OF_P = re.compile(r"(Failure|\[ERROR\]:) in python asset p \(python_assets/p.py\)")

FILES = {
    "dbt_project.yml": """
        name: proj
        version: "1.0"
        config-version: 2
        profile: proj
        on-run-start: ["select 1"]
        on-run-end: ["select 2"]
        """,
    "models/a.sql": "select 1 as id, 10 as amount",
    "models/b.sql": "select id, amount * 2 as amount from {{ source('py', 'p') }}",
    "models/c.sql": "select * from {{ ref('b') }}",
    "models/sources.yml": """
        version: 2
        sources:
          - name: py
            schema: "{{ target.schema }}_py"
            tables:
              - name: p
                config: {meta: {braid: {python: p.make, depends_on: [a]}}}
        exposures:
          - name: q
            type: application
            owner: {name: me}
            depends_on: ["ref('b')"]
            config: {meta: {braid: {python: p.report, depends_on: [b]}}}
        """,
    "python_assets/p.py": """
        import os
        import time

        def make(a):
            if os.environ.get("P_FAILS"):
                raise ValueError("p cannot be made today")
            time.sleep(float(os.environ.get("P_SLEEPS", "0")))
            return a

        def report(b):
            return None
        """,
}


def lines(output: str) -> list[str]:
    return [ANSI.sub("", line) for line in output.splitlines()]


def numbered(output: str) -> list[tuple[int, int, str, str]]:
    found = []
    for line in lines(output):
        match = NUMBERED.match(line)
        if match and "hook:" not in line:
            found.append((int(match[1]), int(match[2]), match[3], match[4]))
    return found


def done_counts(output: str) -> dict[str, int]:
    (summary,) = [m[1] for line in lines(output) if (m := DONE.search(line))]
    return {k.lower(): int(v) for k, v in re.findall(r"([A-Z-]+)=(\d+)", summary)}


def expected_counts(project: Project) -> dict[str, int]:
    """The Done line's numbers from the run's files: braid's results, plus the project
    hooks dbt ran (dbt counts them in its totals)."""
    braid = json.loads((project.root / "target/braid/run_results.json").read_text())
    dbt = json.loads((project.root / "target/run_results.json").read_text())
    kind = {"success": "pass", "pass": "pass", "error": "error", "fail": "error",
            "skipped": "skip", "warn": "warn", "no-op": "no-op"}
    counts: Counter[str] = Counter(kind[r["status"]] for r in braid["results"])
    counts.update(kind[r["status"]] for r in dbt["results"]
                  if r["unique_id"].startswith("operation."))
    counts["total"] = sum(v for k, v in counts.items())
    return dict(counts)


def position(output: str, pattern: str) -> int:
    for i, line in enumerate(lines(output)):
        if re.search(pattern, line):
            return i
    raise AssertionError(f"no line matches {pattern!r}:\n{output}")


@pytest.fixture
def project(make_project) -> Project:
    return make_project(FILES)


def test_a_successful_run_reads_as_one_dbt_run(project: Project) -> None:
    done = project.braid("run")
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    text = "\n".join(lines(out))
    # dbt's header once, before any node, counting the Python assets
    for once in ("Running with dbt=", "Registered adapter: duckdb=", "Concurrency: ",
                 "Finished running ", "Completed successfully", "Done. PASS="):
        assert text.count(once) == 1, (once, out)
    assert position(out, "Running with dbt=") < position(out, r" of \d+ START")
    assert re.search(r"Found .*, 2 python assets$", text, re.M), out
    # the hooks ran once each
    assert text.count("START hook: proj.on-run-start.0") == 1
    assert text.count("START hook: proj.on-run-end.0") == 1
    # one k of N over the five nodes: each k starts once, N is the whole run
    rows = numbered(out)
    starts = [k for k, n, word, _ in rows if word == "START"]
    assert sorted(starts) == [1, 2, 3, 4, 5], out
    assert {n for _, n, _, _ in rows} == {5}, out
    assert sorted(k for k, _, word, _ in rows if word == "OK") == [1, 2, 3, 4, 5], out
    # causal order: each START after the OK of what it reads
    for upstream, downstream in (("model main.a", "python asset p"),
                                 ("python asset p", "model main.b"),
                                 ("model main.b", "model main.c"),
                                 ("model main.b", "python asset q")):
        assert (position(out, rf"OK .*{upstream} ")
                < position(out, rf"START .*{downstream} ")), (upstream, downstream, out)
    assert re.search(r"Finished running 2 project hooks, 2 python assets, 3 view models in ",
                     text), out
    counts = done_counts(out)
    assert counts["pass"] == counts["total"] == 7, out  # five nodes and two hooks
    expected = expected_counts(project)
    assert {k: counts.get(k, 0) for k in expected} == expected, (counts, expected)
    # no braid per-batch chatter
    assert "dbt invocation" not in text


def test_a_failure_skips_both_kinds_and_is_listed_once(project: Project) -> None:
    done = project.braid("run", env={"P_FAILS": "1"})
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    text = "\n".join(lines(done.stdout))
    assert re.search(r"\d of 5 ERROR python asset p .*\[ERROR in", text), out
    # the later batch's dbt nodes and the Python asset behind them: SKIP lines, numbered
    skips = [rest for _, _, word, rest in numbered(done.stdout) if word == "SKIP"]
    assert any("relation main.b" in s for s in skips), out
    assert any("relation main.c" in s for s in skips), out
    assert any("python asset q" in s for s in skips), out
    assert sorted(k for k, *_ in numbered(done.stdout) if _[1] in ("START", "SKIP")) == \
        [1, 2, 3, 4, 5], out
    # one summary block naming the failure, with the asset's own error
    assert text.count("Completed with 1 error") == 1, out
    assert "Completed successfully" not in text
    assert FAILURE_OF_P.search(text), out
    assert "ValueError: p cannot be made today" in text, out
    assert text.count("Done. PASS=") == 1
    counts = done_counts(done.stdout)
    assert counts["error"] == 1 and counts["skip"] == 3, out
    expected = expected_counts(project)
    assert {k: counts.get(k, 0) for k in expected} == expected, (counts, expected)


def test_failures_of_both_kinds_are_listed_together(make_project) -> None:
    project = make_project({**FILES, "models/d.sql": "select * from no_such_table_anywhere"})
    done = project.braid("run", env={"P_FAILS": "1"})
    text = "\n".join(lines(done.stdout))
    assert done.returncode == 1, text + done.stderr
    assert text.count("Completed with 2 errors") == 1, text
    assert FAILURE_OF_P.search(text), text
    assert re.search(r"(Failure|\[ERROR\]:) in model d \(models/d.sql\)", text), text
    assert done_counts(done.stdout)["error"] == 2


def test_a_long_python_asset_says_it_is_still_running(project: Project) -> None:
    done = project.braid("run", "-s", "a", "p",
                         env={"P_SLEEPS": "2", "BRAID_STILL_RUNNING_AFTER": "0.5"})
    assert done.returncode == 0, done.stdout + done.stderr
    notices = [line for line in lines(done.stdout) if "python asset p still running" in line]
    assert len(notices) >= 2, done.stdout
    assert position(done.stdout, "START python asset p") < position(done.stdout, "still running")
    assert position(done.stdout, "still running") < position(done.stdout, "OK python asset p")
    quick = project.braid("run", "-s", "a", "p")
    assert "still running" not in quick.stdout


def test_json_logs_carry_one_summary_for_the_run(project: Project) -> None:
    done = project.braid("run", "--log-format", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    names = Counter(e["info"]["name"] for e in events)
    assert names["MainReportVersion"] == 1 and names["StatsLine"] == 1, names
    assert names["FinishedRunningStats"] == 1 and names["EndOfRunSummary"] == 1, names
    stats = next(e for e in events if e["info"]["name"] == "StatsLine")["data"]["stats"]
    assert stats["total"] == 7 and stats["pass"] == 7, stats


def test_the_quieted_lines_stay_in_dbt_log(project: Project) -> None:
    """Each invocation's own header and summary are debug lines: the file log keeps them."""
    done = project.braid("run")
    assert done.returncode == 0, done.stdout + done.stderr
    log = (project.root / "logs" / "dbt.log").read_text()
    assert log.count("Concurrency: ") >= 3  # braid's line and each invocation's, as debug
    assert Path(project.root / "target/braid/run_results.json").exists()


def node_lines(output: str) -> dict[str, dict[str, dict]]:
    """unique_id -> event name -> that event's data, for the JSON lines with a node_info."""
    found: dict[str, dict[str, dict]] = {}
    for line in output.splitlines():
        event = json.loads(line)
        info = event["data"].get("node_info")
        if info and info.get("unique_id"):
            found.setdefault(info["unique_id"], {})[event["info"]["name"]] = event["data"]
    return found


def test_json_logs_give_python_assets_the_node_lines_of_models(project: Project) -> None:
    """Issue 25 item 5: a log shipper reading dbt's JSON finds a Python asset's start and
    result lines as a model's (the same events, the same node_info keys), with the asset's
    unique_id and its result in node_info; the text lines are as before."""
    done = project.braid("run", "--log-format", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    nodes = node_lines(done.stdout)
    model, asset = nodes["model.proj.a"], nodes["python.proj.p"]
    for name in ("LogStartLine", "LogModelResult"):
        assert name in model and name in asset, (name, sorted(model), sorted(asset))
        assert set(asset[name]) == set(model[name]), (name, asset[name], model[name])
        assert set(asset[name]["node_info"]) == set(model[name]["node_info"])
    start, end = asset["LogStartLine"], asset["LogModelResult"]
    assert start["node_info"]["node_status"] == "started"
    assert end["node_info"]["node_status"] == "success"
    assert end["node_info"]["resource_type"] == "python"
    assert end["node_info"]["node_started_at"] and end["node_info"]["node_finished_at"]
    assert end["node_info"]["node_relation"]["alias"] == "p"
    assert end["status"].startswith("wrote 1 rows to ") and end["execution_time"] > 0
    assert (start["index"], start["total"]) == (end["index"], end["total"])
    # the text inside the JSON is braid's line, as the text console prints it
    text = {json.loads(line)["info"]["msg"] for line in done.stdout.splitlines()}
    assert any(re.match(r"\d of 5 OK python asset p \.+ \[.*wrote 1 rows to ", ANSI.sub("", t))
               for t in text), text

    failed = project.braid("run", "--log-format", "json", env={"P_FAILS": "1"})
    assert failed.returncode == 1, failed.stdout + failed.stderr
    nodes = node_lines(failed.stdout)
    end = nodes["python.proj.p"]["LogModelResult"]
    assert end["status"] == "error" and end["node_info"]["node_status"] == "error"
    # a skipped asset is dbt's SkippingDetails, as the dbt nodes behind it are
    skipped, behind = nodes["python.proj.q"], nodes["model.proj.b"]
    assert "SkippingDetails" in skipped and "SkippingDetails" in behind, (skipped, behind)
    assert skipped["SkippingDetails"]["node_info"]["node_status"] == "skipped"
    assert set(skipped["SkippingDetails"]["node_info"]) == set(
        behind["SkippingDetails"]["node_info"])


