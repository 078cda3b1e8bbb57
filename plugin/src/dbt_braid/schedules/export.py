"""``braid schedules export``: braid.yml's schedules for the scheduler a team already has.

Every format calls braid itself, so what is due, the time zone, catch-up, the one-run lock
and history stay braid's: a line (or job, or DAG) per schedule runs ``braid run --due
--schedule NAME`` at the schedule's own cron tick, which finds it due and runs it once. Pure:
text from the schedules and the project's folder.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Sequence

import yaml

from dbt_braid.schedules.config import Schedule

FORMATS = ("crontab", "github-actions", "kubernetes", "airflow")


def _due(schedule: Schedule, braid: str = "braid") -> list[str]:
    return [braid, "run", "--due", "--schedule", schedule.name]


def to_crontab(schedules: Sequence[Schedule], project_dir: str, braid: str) -> str:
    """crontab lines; ``CRON_TZ`` (cronie, Debian's and RHEL's cron) sets each time zone."""
    log = shlex.quote(f"{project_dir}/logs/braid-schedules.log")
    lines = ["# braid schedules (braid.yml), written by `braid schedules export`",
             "# each line runs its schedule when its tick comes; braid records it"]
    for s in schedules:
        command = " ".join(shlex.quote(w) for w in _due(s, braid))
        lines += [f"# {s.name}: braid {s.describe()}", f"CRON_TZ={s.timezone}",
                  f"{s.cron} cd {shlex.quote(project_dir)} && {command} >> {log} 2>&1"]
    return "\n".join(lines) + "\n"


def to_github_actions(schedules: Sequence[Schedule], project_dir: str) -> str:
    """A workflow. GitHub's cron is UTC only: UTC schedules trigger at their own ticks; any
    other time zone makes the workflow wake every 15 minutes and braid decide."""
    crons = sorted({s.cron for s in schedules if s.timezone in ("UTC", "Etc/UTC")})
    if any(s.timezone not in ("UTC", "Etc/UTC") for s in schedules):
        crons.append("*/15 * * * *")
    workflow = {
        "name": "braid schedules",
        "on": {"schedule": [{"cron": c} for c in crons], "workflow_dispatch": {}},
        "concurrency": {"group": "braid-schedules", "cancel-in-progress": False},
        "jobs": {"due": {
            "runs-on": "ubuntu-latest",
            "steps": [
                {"uses": "actions/checkout@v4"},
                {"uses": "actions/setup-python@v5", "with": {"python-version": "3.11"}},
                {"name": "Install braid", "run": "pip install dbt-braid"},
                {"name": "Run what is due", "working-directory": project_dir,
                 "run": "braid deps\nbraid run --due\n",
                 "env": {"DBT_PROFILES_DIR": "${{ github.workspace }}/" + project_dir}},
            ],
        }},
    }
    header = ("# braid schedules (braid.yml), written by `braid schedules export`: braid run "
              "--due\n# decides what is due; history lives in the warehouse, so give the "
              "profile a shared target\n")
    return header + yaml.safe_dump(workflow, sort_keys=False, width=100)


def dns_name(name: str) -> str:
    """A Kubernetes object name (lower-case letters, digits and '-') for a schedule."""
    return ("braid-" + re.sub(r"[^a-z0-9-]+", "-", name.lower())).strip("-")[:52]


def to_kubernetes(schedules: Sequence[Schedule], project_dir: str, image: str) -> str:
    """One CronJob per schedule (``spec.timeZone``: Kubernetes 1.27 or later)."""
    docs = []
    for s in schedules:
        docs.append({
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": {"name": dns_name(s.name), "labels": {"app.kubernetes.io/name": "braid",
                                                             "braid/schedule": dns_name(s.name)}},
            "spec": {
                "schedule": s.cron,
                "timeZone": s.timezone,
                "concurrencyPolicy": "Forbid",
                "jobTemplate": {"spec": {"backoffLimit": 0, "template": {"spec": {
                    "restartPolicy": "Never",
                    "containers": [{
                        "name": "braid",
                        "image": image,
                        "workingDir": project_dir,
                        "command": _due(s),
                    }],
                }}}},
            },
        })
    return "# braid schedules (braid.yml), written by `braid schedules export`\n" + \
        yaml.safe_dump_all(docs, sort_keys=False, width=100)


def to_airflow(schedules: Sequence[Schedule], project_dir: str, braid: str) -> str:
    """An Airflow DAG file: one DAG per schedule, in its time zone, no catch-up of its own
    (braid's ``--due`` makes one run of missed ticks)."""
    out = [
        '"""braid schedules (braid.yml) as Airflow DAGs, written by `braid schedules '
        'export`."""',
        "",
        "import pendulum",
        "from airflow import DAG",
        "from airflow.operators.bash import BashOperator",
        "",
    ]
    for s in schedules:
        command = f"cd {shlex.quote(project_dir)} && " + " ".join(
            shlex.quote(w) for w in _due(s, braid))
        var = re.sub(r"\W", "_", s.name)
        out += [
            f"# {s.name}: braid {s.describe()}",
            f"with DAG(dag_id={json.dumps('braid_' + s.name)}, schedule={json.dumps(s.cron)},",
            f"         start_date=pendulum.datetime(2024, 1, 1, tz={json.dumps(s.timezone)}),",
            "         catchup=False, max_active_runs=1, tags=[\"braid\"]) as dag_" + var + ":",
            f"    BashOperator(task_id=\"braid_run_due\", bash_command={json.dumps(command)})",
            "",
        ]
    return "\n".join(out)
