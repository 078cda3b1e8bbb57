"""``braid.yml``: braid's own project file, beside ``dbt_project.yml`` (dbt ignores it).

It holds ``schedules``, the ``executor`` setting (:func:`executor_setting`) and ``runs:
{keep: N}`` (how many runs' progress files stay, ``builtins.progress``); its JSON
Schema (``schemas/braid_yml.schema.json``) checks shapes, and the rest is checked here with a
line per problem naming the file, the schedule, the key and the fix: a cron expression
croniter cannot read, a time zone the system's database does not know, a selector not in
selectors.yml, a name used twice.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jsonschema
import yaml
from croniter import croniter

from dbt_braid.core.errors import BraidUserError, Problem

FILE = "braid.yml"


@dataclass(frozen=True)
class Schedule:
    name: str
    cron: str
    timezone: str = "UTC"
    selector: str | None = None
    select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    command: str = "run"
    vars: Mapping[str, Any] = field(default_factory=dict)
    #: a schedule with no recorded run is due at once, for the tick before it was added;
    #: without it, it waits for its first tick after braid first saw it (schedules.seen)
    catch_up: bool = False

    def argv(self) -> list[str]:
        """The ``braid <command>`` flags this schedule runs with."""
        out = []
        if self.selector:
            out += ["--selector", self.selector]
        if self.select:
            out += ["--select", *self.select]
        if self.exclude:
            out += ["--exclude", *self.exclude]
        if self.vars:
            out += ["--vars", json.dumps(dict(self.vars))]
        return out

    def describe(self) -> str:
        """``run --selector forecast``: what it runs (its vars left out)."""
        args = self.argv()
        return " ".join([self.command, *(args[:-2] if self.vars else args)])


def _words(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(value.split())
    return tuple(w for item in value for w in str(item).split())


def _schema() -> dict[str, Any]:
    text = resources.files("dbt_braid").joinpath("schemas/braid_yml.schema.json").read_text()
    return dict(json.loads(text))


#: what each key of a schedule must be, for a message that says how to fix it
SHAPES = {
    "name": "a name of letters, digits, _, . and -, e.g. name: nightly_forecast",
    "cron": "a cron line in quotes, e.g. cron: \"0 3 * * *\"",
    "timezone": "an IANA time zone, e.g. timezone: Europe/Berlin",
    "selector": "the name of a selector of selectors.yml",
    "select": "selection words, e.g. select: +forecast_summary",
    "exclude": "selection words, e.g. exclude: tag:slow",
    "command": "run or build",
    "vars": "a mapping, e.g. vars: {horizon_days: 30}",
    "runs": "a mapping, e.g. runs: {keep: 100}",
    "keep": "a whole number of runs, at least 1, e.g. runs: {keep: 100}",
    "catch_up": "true or false (true: a new schedule runs at once, for the tick it missed)",
}


def _message(err: jsonschema.ValidationError, schema: Mapping[str, Any]) -> str:
    """jsonschema's finding as what to write instead."""
    allowed = list(schema["properties"]["schedules"]["items"]["properties"])
    if err.validator == "additionalProperties" and isinstance(err.instance, Mapping):
        path = list(err.absolute_path)
        known = (set(allowed) if path[:1] == ["schedules"]
                 else {"address"} if path == ["executor", "dask"]
                 else {"keep"} if path == ["runs"]
                 else set(schema["properties"]))
        extra = sorted(set(err.instance) - known)
        return (f"unknown key {', '.join(map(repr, extra))}; allowed: "
                f"{', '.join(sorted(known))}")
    if list(err.absolute_path) == ["executor"] and err.validator == "maxProperties":
        return "name one executor (with its settings), not several"
    if list(err.absolute_path) == ["executor"] and err.validator == "oneOf":
        return ("must be an executor's name (threads, processes, dask) or one name with its "
                "settings, e.g. executor: {dask: {address: tcp://scheduler:8786}}; got "
                f"{err.instance!r}")
    if err.validator == "required":
        missing = str(err.message).split("'")[1] if "'" in err.message else "?"
        return f"missing {missing!r}; every schedule needs a name and a cron line"
    key = str(list(err.absolute_path)[-1]) if err.absolute_path else ""
    if key in SHAPES:
        return f"must be {SHAPES[key]}; got {err.instance!r}"
    if key == "schedules" or not err.absolute_path:
        return "must be a list of schedules, each with a name and a cron line (see README)"
    return str(err.message)


def read(project_root: Path) -> dict[str, Any]:
    """``braid.yml`` checked against its schema ({} when there is no file), or every problem."""
    path = project_root / FILE
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise BraidUserError(f"{FILE}: not valid YAML: {' '.join(str(exc).split())}") from None
    problems: list[Problem] = []
    schema = _schema()
    validator = jsonschema.Draft202012Validator(schema)
    for err in sorted(validator.iter_errors(data), key=lambda e: list(e.path)):
        if err.validator == "oneOf" and isinstance(err.instance, Mapping) and err.context:
            # executor: {NAME: {...}} went wrong inside: say where, not "matches no form"
            inside = [e for e in err.context if list(e.relative_schema_path)[:1] == [1]]
            err = jsonschema.exceptions.best_match(inside) or err
        where = list(err.absolute_path)
        name = ""
        if len(where) >= 2 and where[0] == "schedules" and isinstance(where[1], int):
            entry = data["schedules"][where[1]]
            name = f"schedule {entry.get('name', '#' + str(where[1] + 1))}" \
                if isinstance(entry, Mapping) else f"schedule #{where[1] + 1}"
            key = ".".join(str(p) for p in where[2:]) or "schedule"
        else:
            key = ".".join(str(p) for p in where) or "(top level)"
        problems.append(Problem(FILE, name, key, _message(err, schema)))
    if problems:
        raise BraidUserError(problems)
    return dict(data)


def executor_setting(project_root: Path) -> tuple[str | None, dict[str, Any]]:
    """``braid.yml``'s ``executor``: the name runs use without ``--executor`` (None: not
    set), and its settings (``executor: {dask: {address: ...}}``)."""
    value = read(project_root).get("executor")
    if isinstance(value, str):
        return value, {}
    if isinstance(value, Mapping) and value:
        name, settings = next(iter(value.items()))
        return str(name), dict(settings or {})
    return None, {}


def load(project_root: Path, selectors: Collection[str] = ()) -> list[Schedule]:
    """The schedules of ``braid.yml`` (none when there is no file), or every problem."""
    data = read(project_root)
    problems: list[Problem] = []
    found: list[Schedule] = []
    seen: set[str] = set()
    for entry in data.get("schedules") or []:
        name = entry["name"]
        label = f"schedule {name}"
        if name in seen:
            problems.append(Problem(FILE, label, "name", "used by another schedule; give "
                                    "each schedule a name of its own"))
        seen.add(name)
        cron = str(entry["cron"])
        if len(cron.split()) != 5 or not croniter.is_valid(cron):
            problems.append(Problem(FILE, label, "cron", f"{cron!r} is not a cron expression "
                                    "of 5 fields (minute hour day month weekday); e.g. cron: "
                                    "\"0 3 * * *\" for 3:00 every day"))
        zone = str(entry.get("timezone", "UTC"))
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(Problem(FILE, label, "timezone", f"unknown time zone {zone!r}; use "
                                    "an IANA name such as Europe/Berlin or UTC"))
        selector = entry.get("selector")
        if selector is not None and selector not in selectors:
            known = ", ".join(sorted(selectors)) or "none defined"
            problems.append(Problem(FILE, label, "selector", f"no selector {selector!r} in "
                                    f"selectors.yml (defined: {known})"))
        if selector is not None and (entry.get("select") or entry.get("exclude")):
            problems.append(Problem(FILE, label, "selector", "give a selector or "
                                    "select/exclude, not both (as on the command line)"))
        found.append(Schedule(name, cron, zone, selector, _words(entry.get("select")),
                              _words(entry.get("exclude")), entry.get("command", "run"),
                              dict(entry.get("vars") or {}), bool(entry.get("catch_up", False))))
    if problems:
        raise BraidUserError(problems)
    return found
