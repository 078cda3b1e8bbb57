"""Schedules (issue 16, points 1-3 and 7; issue 25, item 4): braid.yml validated, what is
due on a clock the tests choose (catch-up; time zones and DST: tests/unit/schedules/), and
``braid run --due`` on a real project: one run per due schedule, recorded with its name,
idempotent, and polite to a run holding the target; a new schedule waits for its first tick
unless ``catch_up: true`` (the module's project opts in, so its schedules run on the first
call); ``--dry-run`` runs nothing.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from helpers import BRAID_PACKAGE, Project, copy_project, template_project

UTC = timezone.utc


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# ---- the clock ---------------------------------------------------------------------------


# ---- braid.yml and braid run --due, on a real project -------------------------------------

FILES = {
    **BRAID_PACKAGE,
    "models/a.sql": "{{ config(materialized='table') }} select 1 as id",
    "models/b.sql": "{{ config(materialized='table', tags=['nightly']) }} select 2 as id",
    "selectors.yml": """
        selectors:
          - name: nightly
            definition: {method: tag, value: nightly}
        """,
    "braid.yml": """
        schedules:
          - name: every_minute
            cron: "* * * * *"
            select: a
            catch_up: true
          - name: nightly
            cron: "0 3 * * *"
            timezone: Europe/Berlin
            selector: nightly
            command: build
            catch_up: true
        """,
}


@pytest.fixture(scope="module")
def deployed(tmp_path_factory) -> Project:
    """FILES after ``braid deps``, once for the module (tests start from copies)."""
    return template_project(tmp_path_factory, FILES, ("deps",))


@pytest.fixture
def project(deployed: Project, make_project) -> Project:
    return copy_project(deployed, make_project)


def runs(project: Project) -> list[tuple]:
    if "braid_runs" not in project.tables():
        return []
    return project.sql("select schedule, command, selection, status from main.braid_runs "
                       "order by started_at")


def test_run_due_runs_each_due_schedule_once_and_is_idempotent(project: Project) -> None:
    now = datetime.now(UTC)
    first = project.braid("run", "--due", env={"BRAID_NOW": now.isoformat()})
    assert first.returncode == 0, first.stdout + first.stderr
    # both never ran: one run each, recorded with the schedule's name
    assert runs(project) == [("every_minute", "braid run", "--select a", "success"),
                             ("nightly", "braid build", "--selector nightly", "success")]
    assert "schedule every_minute: braid run --select a" in first.stdout
    assert set(project.tables()) >= {"a", "b"}
    # right after: nothing due, nothing run
    again = project.braid("run", "--due", env={"BRAID_NOW": now.isoformat()})
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Nothing due (2 schedules, no overdue asset; next: every_minute at" in again.stdout
    assert len(runs(project)) == 2
    # ten minutes on, ten ticks of every_minute were missed: one catch-up run of it alone
    later = project.braid("run", "--due",
                          env={"BRAID_NOW": (now + timedelta(minutes=10)).isoformat()})
    assert later.returncode == 0, later.stdout + later.stderr
    assert [r[0] for r in runs(project)] == ["every_minute", "nightly", "every_minute"]
    listed = project.braid("schedules", "--output", "json",
                           env={"BRAID_NOW": (now + timedelta(minutes=10)).isoformat()})
    assert listed.returncode == 0, listed.stdout + listed.stderr
    rows = {r["name"]: r for r in map(json.loads, listed.stdout.splitlines())}
    assert rows["every_minute"]["last_result"] == "success" and rows["every_minute"]["last_run"]
    assert rows["nightly"]["runs"] == "build --selector nightly"
    assert rows["nightly"]["next"].endswith(("01:00+00:00", "02:00+00:00"))  # 3:00 Berlin


def test_a_due_schedule_waits_while_the_target_is_held(project: Project) -> None:
    from dbt_braid.execution.run_lock import FileLock, this_process

    lock = FileLock(project.root / "target/braid/run-dev.lock")
    lock.acquire(this_process("braid run", "held-by-test"), "the test")
    try:
        held = project.braid("run", "--due")
    finally:
        lock.release()
    assert held.returncode == 0, held.stdout + held.stderr
    assert held.stdout.count("left for the next call") == 2, held.stdout
    assert runs(project) == []
    free = project.braid("run", "--due")
    assert free.returncode == 0 and len(runs(project)) == 2


def test_bad_schedules_are_one_line_each_and_nothing_runs(project: Project) -> None:
    project.write({"braid.yml": """
        schedules:
          - name: bad_cron
            cron: "0 3 * *"
          - name: bad_zone
            cron: "0 3 * * *"
            timezone: Mars/Olympus
          - name: bad_selector
            cron: "0 3 * * *"
            selector: weekly
          - name: bad_zone
            cron: "0 4 * * *"
        """})
    done = project.braid("run", "--due")
    assert done.returncode == 2, done.stdout + done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines == [
        "braid.yml: schedule bad_cron: cron: '0 3 * *' is not a cron expression of 5 fields "
        "(minute hour day month weekday); e.g. cron: \"0 3 * * *\" for 3:00 every day",
        "braid.yml: schedule bad_zone: timezone: unknown time zone 'Mars/Olympus'; use an IANA "
        "name such as Europe/Berlin or UTC",
        "braid.yml: schedule bad_selector: selector: no selector 'weekly' in selectors.yml "
        "(defined: nightly)",
        "braid.yml: schedule bad_zone: name: used by another schedule; give each schedule a "
        "name of its own",
    ], done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert runs(project) == [] and "a" not in project.tables()
    project.write({"braid.yml": """
        schedules:
          - name: x
            cron: '* * * * *'
            when: now
          - name: y
            cron: '* * * * *'
            command: seed
          - cron: '* * * * *'
        """})
    shape = project.braid("schedules")
    assert shape.returncode == 2
    assert [line for line in shape.stderr.splitlines() if line.strip()] == [
        "braid.yml: schedule x: schedule: unknown key 'when'; allowed: catch_up, command, cron, "
        "exclude, name, select, selector, timezone, vars",
        "braid.yml: schedule y: command: must be run or build; got 'seed'",
        "braid.yml: schedule #3: schedule: missing 'name'; every schedule needs a name and a "
        "cron line",
    ], shape.stderr


# ---- exporters ------------------------------------------------------------------------------


def test_exports_for_other_schedulers_are_valid(project: Project, tmp_path) -> None:
    """Each format from the real command, checked by what reads it: crontab lines by
    croniter, the workflow by GitHub's schema (check-jsonschema's copy), the CronJobs by
    Kubernetes' schemas (kubernetes-validate), the Airflow file by Python's compiler."""
    import ast
    import shlex
    from importlib import resources

    import jsonschema
    import kubernetes_validate
    import yaml
    from croniter import croniter

    def export(fmt: str) -> str:
        done = project.braid("schedules", "export", "--format", fmt)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    # crontab: a time zone line before each schedule's line, which runs it when due
    zones, lines = [], []
    for line in export("crontab").splitlines():
        if line.startswith("CRON_TZ="):
            zones.append(line.split("=", 1)[1])
        elif line and not line.startswith("#"):
            lines.append(line)
    assert zones == ["UTC", "Europe/Berlin"] and len(lines) == 2
    for line, name in zip(lines, ["every_minute", "nightly"], strict=True):
        fields = line.split(None, 5)
        assert croniter.is_valid(" ".join(fields[:5]))
        words = shlex.split(fields[5])
        assert words[:2] == ["cd", str(project.root)]
        assert words[3].endswith("braid") and words[4:8] == ["run", "--due", "--schedule", name]
    # running the exported command is a due run of that schedule, recorded with its name
    command = " ".join(shlex.split(lines[1].split(None, 5)[5])[3:8])
    ran = project.braid(*command.split()[1:])
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert runs(project) == [("nightly", "braid build", "--selector nightly", "success")]

    # GitHub Actions: the workflow validates against GitHub's workflow schema
    workflow = yaml.safe_load(export("github-actions"))
    schema = json.loads(resources.files("check_jsonschema.builtin_schemas.vendor")
                        .joinpath("github-workflows.json").read_text())
    jsonschema.validate(workflow, schema)
    assert [c["cron"] for c in workflow["on"]["schedule"]] == ["* * * * *", "*/15 * * * *"]
    assert "braid run --due" in workflow["jobs"]["due"]["steps"][-1]["run"]

    # Kubernetes: two CronJobs that validate (strictly) against the 1.30 API's schemas
    jobs = list(yaml.safe_load_all(export("kubernetes")))
    assert [j["metadata"]["name"] for j in jobs] == ["braid-every-minute", "braid-nightly"]
    for job in jobs:
        kubernetes_validate.validate(job, "1.30.0", strict=True)
    assert jobs[1]["spec"]["timeZone"] == "Europe/Berlin"
    container = jobs[1]["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["braid", "run", "--due", "--schedule", "nightly"]

    # Airflow: the file compiles and defines one DAG per schedule, in its time zone
    text = export("airflow")
    tree = ast.parse(compile(text, "braid_schedules.py", "exec", ast.PyCF_ONLY_AST))
    dags = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "DAG":
            kw = {k.arg: k.value for k in node.keywords}
            dags[ast.literal_eval(kw["dag_id"])] = ast.literal_eval(kw["schedule"])
    assert dags == {"braid_every_minute": "* * * * *", "braid_nightly": "0 3 * * *"}
    assert 'tz="Europe/Berlin"' in text and "--schedule nightly" in text


def test_due_for_one_named_schedule(project: Project) -> None:
    done = project.braid("run", "--due", "--schedule", "every_minute")
    assert done.returncode == 0, done.stdout + done.stderr
    assert [r[0] for r in runs(project)] == ["every_minute"]
    unknown = project.braid("run", "--due", "--schedule", "weekly")
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == ("braid run --due --schedule: no schedule 'weekly' in "
                                      "braid.yml (defined: every_minute, nightly)")


def test_a_new_schedule_waits_for_its_first_tick_unless_it_catches_up(project: Project) -> None:
    """Added today, no run recorded: due once a tick has passed since braid first saw it;
    ``catch_up: true`` runs it on the first call. ``--dry-run`` says so and runs nothing."""
    now = datetime.now(UTC)
    # eager ticks daily, half a day from now: not again within this test
    project.write({"braid.yml": f"""
        schedules:
          - name: hourly
            cron: "0 * * * *"
            select: a
          - name: eager
            cron: "0 {(now.hour + 12) % 24} * * *"
            select: b
            catch_up: true
          - name: external
            cron: "0 {(now.hour + 12) % 24} * * *"
            select: a
        """})
    clock = {"BRAID_NOW": now.isoformat()}
    dry = project.braid("run", "--due", "--dry-run", env=clock)
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "schedule eager would run: braid run --select b (1 node: b)" in dry.stdout
    assert "schedule hourly" not in dry.stdout and "schedule external" not in dry.stdout
    assert "nothing was run" in dry.stdout
    assert runs(project) == [] and not {"a", "b"} & project.tables()
    seen = json.loads((project.root / "target/braid/schedules-dev.json").read_text())
    assert set(seen) == {"hourly", "eager", "external"}
    listed = project.braid("schedules", "--output", "json", env=clock)
    rows = {r["name"]: r for r in map(json.loads, listed.stdout.splitlines())}
    assert (rows["hourly"]["due"], rows["eager"]["due"]) == (False, True)
    first = project.braid("run", "--due", env=clock)
    assert first.returncode == 0, first.stdout + first.stderr
    assert [r[0] for r in runs(project)] == ["eager"]  # the others wait for their first tick
    # named, as cron or a CronJob calls it at its own tick (the exports): its caller's clock
    named = project.braid("run", "--due", "--schedule", "external", env=clock)
    assert named.returncode == 0, named.stdout + named.stderr
    assert [r[0] for r in runs(project)] == ["eager", "external"]
    # past the next full hour: hourly's first tick since braid saw it
    later = project.braid("run", "--due", env={"BRAID_NOW": (now + timedelta(minutes=61))
                                                .isoformat()})
    assert later.returncode == 0, later.stdout + later.stderr
    assert [r[0] for r in runs(project)] == ["eager", "external", "hourly"]


# ---- freshness policies ---------------------------------------------------------------------


POLICY_FILES = {
    **BRAID_PACKAGE,
    "models/a.sql": "{{ config(materialized='table') }} select 1 as id",
    "models/hourly.sql": "{{ config(materialized='table', freshness={'build_after': "
                         "{'count': 1, 'period': 'hour'}}) }} select * from {{ ref('a') }}",
    "models/sources.yml": """
        version: 2
        sources:
          - name: py
            schema: py
            freshness: {warn_after: {count: 1, period: day}}
            tables:
              - name: p
                config: {meta: {braid: {python: p.make, depends_on: [a]}}}
        exposures:
          - name: report
            type: ml
            owner: {name: me}
            config: {meta: {braid: {python: p.report, depends_on: [py.p],
                                    freshness: {build_after: {count: 3, period: hour}}}}}
        """,
    "python_assets/p.py": "def make(a):\n    return a\n\n\ndef report(p):\n    return len(p)\n",
}


def test_freshness_policies_make_assets_overdue_and_due(make_project) -> None:
    project = make_project(POLICY_FILES)
    assert project.braid("deps").returncode == 0
    built = project.braid("run")
    assert built.returncode == 0, built.stdout + built.stderr
    now = datetime.now(UTC)

    def status(at_time: datetime) -> dict[str, dict]:
        done = project.braid("status", "--output", "json", env={"BRAID_NOW": at_time.isoformat()})
        assert done.returncode == 0, done.stdout + done.stderr
        return {r["name"]: r for r in map(json.loads, done.stdout.splitlines())}

    assert not any(r["overdue"] for r in status(now).values())
    # two hours on: the model's build_after (1 hour) is broken, nothing else
    later = status(now + timedelta(hours=2))
    assert later["hourly"]["overdue"].startswith("build_after 1 hour: last materialized 2 hours")
    assert not later["p"]["overdue"] and not later["report"]["overdue"]
    # four hours on: the exposure asset's meta.braid.freshness too; two days: the source's
    assert status(now + timedelta(hours=4))["report"]["overdue"].startswith("build_after 3 hours")
    assert status(now + timedelta(days=2))["p"]["overdue"].startswith("warn_after 1 day")
    table = project.braid("status", env={"BRAID_NOW": (now + timedelta(hours=2)).isoformat()})
    assert "overdue" in table.stdout.splitlines()[0] and "build_after 1 hour" in table.stdout
    # status:overdue selects them
    listed = project.braid("ls", "-s", "status:overdue",
                           env={"BRAID_NOW": (now + timedelta(hours=4)).isoformat()})
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert {line.split(".")[-1].removeprefix("python:") for line in listed.stdout.split()
            if line.strip()} == {"hourly", "report"}, listed.stdout
    # braid run --due runs what is overdue (no braid.yml needed), recorded as such
    four_hours = {"BRAID_NOW": (now + timedelta(hours=4)).isoformat()}
    dry = project.braid("run", "--due", "--dry-run", env=four_hours)
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert ("overdue would run: braid run --select status:overdue (overdue: hourly, report)"
            in dry.stdout)
    assert project.sql("select count(*) from main.braid_runs") == [(1,)]  # nothing ran
    due = project.braid("run", "--due", env=four_hours)
    assert due.returncode == 0, due.stdout + due.stderr
    assert "overdue: hourly, report" in due.stdout
    # nothing upstream is stale: no criterion for it, so no warning that it matched nothing
    assert "does not match any enabled nodes" not in due.stdout
    recorded = project.sql("select schedule, status from main.braid_runs where schedule is not "
                           "null")
    assert recorded == [("(overdue)", "success")]
    ran = {name for (name,) in project.sql(
        "select name from main.braid_node_runs n join main.braid_runs r using (run_id) "
        "where r.schedule = '(overdue)'")}
    assert ran == {"hourly", "report"}
