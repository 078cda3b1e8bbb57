"""The JSON Schema check of a ``meta.braid`` block, with messages that say how to fix it.

jsonschema's own messages name the schema rule; these name the key, what was found and
what to write instead (one :class:`Problem` per key).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

import jsonschema

from dbt_braid.core.errors import Problem
from dbt_braid.declare.declarations import Declaration


@cache
def meta_schema() -> dict[str, Any]:
    """The JSON Schema of ``meta.braid``, shipped in the package."""
    text = resources.files("dbt_braid").joinpath("schemas/meta_braid.schema.json").read_text()
    return json.loads(text)


@cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(meta_schema())


#: What each ``meta.braid`` key must be, for messages about a value of the wrong shape.
_SHAPES = {
    "python": "a string module.function, e.g. python: forecast.train",
    "depends_on": "a list of names or a mapping argument: name, e.g. depends_on: [fct_orders]",
    "params": "a mapping name: value, e.g. params: {horizon_days: 30}",
    "io": "the name of an IO manager, e.g. io: pickle",
    "tags": "a string or a list of strings, e.g. tags: [ml]",
    "group": "a string",
    "description": "a string",
    "owner": "a string or a mapping, e.g. owner: {name: Data Science}",
    "timeout": "a duration: seconds, or a number with s, m or h, e.g. timeout: 10m",
    "retries": "a count, or {count, delay, backoff} (count a whole number, delay a duration, "
               "backoff 1 or more), e.g. retries: {count: 3, delay: 30s, backoff: 2}",
    "partitions": "{event_time, batch_size, begin, lookback} (batch_size hour, day, month or "
                  "year; lookback a whole number), e.g. partitions: {event_time: order_date, "
                  "batch_size: day, begin: \"2026-01-01\"}",
    "freshness": "{build_after: {count, period}} (period minute, hour or day), e.g. "
                 "freshness: {build_after: {count: 1, period: day}}",
}
_ARGUMENT_HINT = "use letters, digits and _, not starting with a digit"


def _got(value: Any) -> str:
    """A value as a message shows it: its YAML kind and, if short, the value."""
    kind = (
        "nothing"
        if value is None
        else "a boolean"
        if isinstance(value, bool)
        else "a number"
        if isinstance(value, (int, float))
        else "a string"
        if isinstance(value, str)
        else "a mapping"
        if isinstance(value, Mapping)
        else "a list"
        if isinstance(value, list)
        else type(value).__name__
    )
    shown = repr(value)
    return f"{kind} {shown}" if value is not None and len(shown) <= 40 else kind


def _plain(meta: Mapping[str, Any]) -> dict[str, Any]:
    """``meta.braid`` as JSON would hold it: YAML reads an unquoted ``begin: 2026-01-01`` as a
    date, which is what the user meant by the string."""
    from datetime import date

    plain = dict(meta)
    windows = plain.get("partitions")
    if isinstance(windows, Mapping) and isinstance(windows.get("begin"), date):
        plain["partitions"] = {**windows, "begin": windows["begin"].isoformat()}
    return plain


def schema_problems(decl: Declaration, file: str) -> list[Problem]:
    """One problem per key of ``meta.braid`` that the schema refuses."""
    if not isinstance(decl.meta, Mapping):
        write = (f"braid: {{python: {decl.meta}}}" if isinstance(decl.meta, str)
                 else "braid: {python: module.function}")
        return [Problem(file, decl.label, "meta.braid",
                        "must be a mapping with at least python: module.function, got "
                        f"{_got(decl.meta)}; write {write}")]
    problems = []
    for err in sorted(_validator().iter_errors(_plain(decl.meta)), key=lambda e: list(e.path)):
        problems.extend(_error_problems(err, decl, file))
    return problems


def _error_problems(err: jsonschema.ValidationError, decl: Declaration,
                    file: str) -> list[Problem]:
    """What one schema error means for the user, keyed by the ``meta.braid`` key it is on."""
    path = [str(p) for p in err.path]
    key = ".".join(["meta.braid", *path])
    # in the mapping form of depends_on, a bad argument name or value sits inside the oneOf
    sub = [
        e
        for e in err.context or ()
        if isinstance(err.instance, Mapping)
        and (e.validator == "pattern" or (e.validator == "type" and e.path))
    ]
    if err.validator == "additionalProperties":
        allowed = sorted(meta_schema()["properties"])
        problems = []
        for extra in sorted(set(decl.meta) - set(allowed)):
            close = difflib.get_close_matches(extra, allowed, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"allowed: {', '.join(allowed)}"
            problems.append(
                Problem(file, decl.label, f"meta.braid.{extra}", f"unknown key; {hint}"))
        return problems
    if err.validator == "required":
        return [Problem(file, decl.label, "meta.braid.python",
                        "missing; add python: module.function (dbt keeps only one braid: block "
                        "when both meta: and config: meta: have one, so put all keys in one)")]
    if err.validator == "pattern" and path == ["python"]:
        return [Problem(file, decl.label, key, f"{err.instance!r} is not module.function; "
                        "write e.g. python: forecast.train")]
    if err.validator == "pattern" or (sub and sub[0].validator == "pattern"):
        # propertyNames: an argument name that Python cannot take
        name = (sub[0] if sub else err).instance
        return [Problem(file, decl.label, f"{key}.{name}",
                        f"{name!r} is not a valid Python argument name; {_ARGUMENT_HINT}")]
    if sub:
        where = ".".join([key, *(str(p) for p in sub[0].path)])
        return [Problem(file, decl.label, where,
                        f"must be a name (a string), got {_got(sub[0].instance)}")]
    if path and path[0] in _SHAPES:
        return [Problem(file, decl.label, f"meta.braid.{path[0]}",
                        f"must be {_SHAPES[path[0]]}; got {_got(err.instance)}")]
    return [Problem(file, decl.label, key, f"{err.message}")]
