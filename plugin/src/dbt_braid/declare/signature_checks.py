"""Does the function take what the declaration gives it? Its signature against the
dependencies and params of ``meta.braid``.

The signature comes from the source (:mod:`dbt_braid.declare.source`) or, where the source
cannot say, from the imported function; the checks and their messages are the same.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from dbt_braid.core.errors import Problem
from dbt_braid.declare.declarations import Declaration

#: the parameter name that receives the run context instead of a dependency or param
CONTEXT = "context"
#: the parameters that receive a partitioned asset's window (``context.partition`` too)
WINDOW_ARGS = frozenset({"start", "end"})


def signature_problems(
    decl: Declaration,
    file: str,
    sig: inspect.Signature | None,
    inputs: Mapping[str, str],
    params: Mapping[str, Any],
    incomplete: bool = False,
    window_args: frozenset[str] = frozenset(),
) -> tuple[bool, list[Problem]]:
    """(whether the function takes ``context``, what does not fit the declaration).

    ``sig`` comes from the source, or from the imported function where the source cannot say;
    None (Python cannot tell, e.g. a builtin) checks nothing."""
    problems: list[Problem] = []
    if sig is None:
        return False, []
    python = decl.meta["python"]
    takes_kwargs = any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
    wants_context = False
    for pname, p in sig.parameters.items():
        if p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
            continue
        if pname == "context":
            wants_context = True
            continue
        if p.kind is p.POSITIONAL_ONLY:
            problems.append(
                Problem(
                    file,
                    decl.label,
                    "meta.braid.python",
                    f"{python}: parameter {pname!r} is positional-only; "
                    "braid passes keyword arguments, remove the '/'",
                )
            )
            continue
        if (pname in inputs or pname in params or pname in window_args
                or p.default is not p.empty or incomplete):
            continue
        problems.append(
            Problem(
                file,
                decl.label,
                "meta.braid.python",
                f"{python}() takes {pname!r}, which matches no dependency, param or 'context'"
                    + (" (start and end are given to partitioned assets only)"
                       if pname in WINDOW_ARGS else "") + "; "
                "add it to depends_on or params, or give it a default",
            )
        )
    if not takes_kwargs:
        for arg in inputs:
            if arg not in sig.parameters:
                # a dependency from the exposure's own depends_on (a ref) is not in meta.braid
                via_dbt = inputs[arg] in decl.dbt_depends_on
                origin = " (from the exposure's depends_on)" if via_dbt else ""
                problems.append(
                    Problem(
                        file,
                        decl.label,
                        "depends_on" if via_dbt else "meta.braid.depends_on",
                        f"{python}() has no parameter {arg!r} for dependency "
                        f"{inputs[arg]}{origin}; add the parameter or rename it "
                        "with meta.braid.depends_on: {argument: name}",
                    )
                )
        for key in params:
            if key not in sig.parameters and key != CONTEXT:
                problems.append(
                    Problem(
                        file,
                        decl.label,
                        f"meta.braid.params.{key}",
                        f"{python}() has no parameter {key!r}; add it or **kwargs",
                    )
                )
    return wants_context, problems
