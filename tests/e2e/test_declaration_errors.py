"""Bad ``meta.braid`` declarations are reported before anything runs (SPEC §2-§4).

Every problem is one line on stderr, ``<yaml file>: <resource>: <key>: <what is wrong; fix>``,
all problems come together, the exit code is 2, there is no traceback, and nothing ran: the
project's model ``m`` is not in the DuckDB file.

Parsing a project costs a couple of seconds, so the declaration-local cases share one project
(``broken``) whose declarations are independent of each other; each case still checks its own
line. Cases that change the shared namespace (name clashes, ambiguity, cycles) get their own
project.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import Project, project_files

MODEL = {"models/m.sql": "select 1 as id\n"}

# --------------------------------------------------------------------------------------------
# helpers


def tables(project: Project) -> set[str]:
    """Tables and views in the project's DuckDB file (none when it does not exist)."""
    if not project.db.exists():
        return set()
    return {name for (name,) in project.sql("select table_name from information_schema.tables")}


def assert_rejected(project: Project, result: subprocess.CompletedProcess[str],
                    models: tuple[str, ...] = ("m",)) -> None:
    """Exit code 2, no traceback, and none of ``models`` was built."""
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "Traceback" not in output, output
    built = tables(project) & set(models)
    assert not built, f"declarations were invalid but {sorted(built)} ran:\n{output}"


def problem_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


def problem_line(result: subprocess.CompletedProcess[str], file: str, resource: str,
                 key: str) -> str:
    """The one stderr line about ``key`` of ``resource`` declared in ``file``."""
    prefix = f"{file}: {resource}: {key}: "
    hits = [line for line in problem_lines(result) if line.startswith(prefix)]
    assert len(hits) == 1, f"want one line starting {prefix!r}, stderr:\n{result.stderr}"
    return hits[0]


def assert_fix(line: str, *fragments: str) -> None:
    for fragment in fragments:
        assert fragment in line, f"{fragment!r} not in {line!r}"


# --------------------------------------------------------------------------------------------
# the shared broken project: independent broken declarations, each with its own expected line

ASSETS = '''
import pandas as pd

CONST = 3


def takes_m(m):
    return m


def takes_nothing():
    return None


def takes_m_and_horizon(m, horizon):
    return m


def positional(m, /):
    return m


def takes_x(x):
    return x


def takes_m_and_kwargs(m, **kwargs):
    return pd.DataFrame({"id": [1]})


def takes_m_and_start(m, start):
    return m
'''

BROKEN_FILES = {
    **MODEL,
    "python_assets/assets.py": ASSETS,
    "python_assets/bad_syntax.py": '''
        """A module with a syntax error on line 3."""

        def f(m:
            return m
        ''',
    "python_assets/imports_missing.py": '''
        """A module importing a package that is not installed."""
        import braid_no_such_package


        def f(m):
            return braid_no_such_package.go(m)
        ''',
    "python_assets/raises.py": '''
        """A module that raises while it is imported."""
        raise RuntimeError("cannot read settings")
        ''',
    # wrong shapes: the JSON Schema of meta.braid
    "models/keys.yml": """
        version: 2
        sources:
          - name: keys
            tables:
              - name: unknown_key
                meta:
                  braid:
                    python: assets.takes_m
                    depends_on: [m]
                    parms: {horizon: 3}
              - name: python_not_string
                config: {meta: {braid: {python: 3}}}
              - name: params_not_mapping
                config: {meta: {braid: {python: assets.takes_m, depends_on: [m], params: [1, 2]}}}
              - name: depends_on_number
                config: {meta: {braid: {python: assets.takes_m, depends_on: 3}}}
              - name: tags_wrong_type
                config: {meta: {braid: {python: assets.takes_m, depends_on: [m], tags: {a: 1}}}}
              - name: timeout_not_duration
                config: {meta: {braid: {python: assets.takes_m, depends_on: [m], timeout: soon}}}
              - name: timeout_zero
                config: {meta: {braid: {python: assets.takes_m, depends_on: [m], timeout: 0s}}}
              - name: retries_negative
                config: {meta: {braid: {python: assets.takes_m, depends_on: [m],
                                        retries: {count: -1}}}}
              - name: retries_unknown_key
                config: {meta: {braid: {python: assets.takes_m, depends_on: [m],
                                        retries: {count: 2, tries: 3}}}}
              - name: meta_not_mapping
                config: {meta: {braid: assets.takes_m}}
              - name: python_not_dotted
                config: {meta: {braid: {python: takes_m, depends_on: [m]}}}
              - name: python_missing
                config: {meta: {braid: {depends_on: [m]}}}
              - name: bad_argument_name
                config: {meta: {braid: {python: assets.takes_m, depends_on: {"1st": m}}}}
              - name: dependency_not_a_name
                config: {meta: {braid: {python: assets.takes_m, depends_on: {m: 3}}}}
              - name: io_not_string
                config: {meta: {braid: {python: assets.takes_m, depends_on: [m], io: 3}}}
              - name: partitions_week
                config: {meta: {braid: {python: assets.takes_m, depends_on: [m],
                                        partitions: {event_time: d, batch_size: week,
                                                     begin: "2026-01-01"}}}}
              - name: partitions_begin_soon
                config: {meta: {braid: {python: assets.takes_m, depends_on: [m],
                                        partitions: {event_time: d, batch_size: day,
                                                     begin: soon}}}}
              - name: partitions_param_start
                config: {meta: {braid: {python: assets.takes_m_and_kwargs, depends_on: [m],
                                        params: {start: 1},
                                        partitions: {event_time: d, batch_size: day,
                                                     begin: 2026-01-01}}}}
              - name: start_without_partitions
                config: {meta: {braid: {python: assets.takes_m_and_start, depends_on: [m]}}}
        """,
    # python: that cannot be loaded
    "models/modules.yml": """
        version: 2
        sources:
          - name: modules
            tables:
              - name: missing_module
                config: {meta: {braid: {python: no_such_module.f, depends_on: [m]}}}
              - name: missing_function
                config: {meta: {braid: {python: assets.take_m, depends_on: [m]}}}
              - name: not_a_function
                config: {meta: {braid: {python: assets.CONST, depends_on: [m]}}}
              - name: syntax_error
                config: {meta: {braid: {python: bad_syntax.f, depends_on: [m]}}}
              - name: import_error
                config: {meta: {braid: {python: imports_missing.f, depends_on: [m]}}}
              - name: raises_at_import
                config: {meta: {braid: {python: raises.f, depends_on: [m]}}}
              - name: package_not_installed
                config: {meta: {braid: {python: notapkg.models.fit, depends_on: [m]}}}
        """,
    # depends_on names that resolve to nothing, or to the same argument
    "models/deps.yml": """
        version: 2
        sources:
          - name: raw
            tables:
              - name: orders
          - name: s1
            tables:
              - name: x
          - name: s2
            tables:
              - name: x
          - name: deps
            tables:
              - name: unknown_dependency
                config: {meta: {braid: {python: assets.takes_m, depends_on: [mm]}}}
              - name: bare_table_name
                config: {meta: {braid: {python: assets.takes_m, depends_on: [m, orders]}}}
              - name: same_argument
                config: {meta: {braid: {python: assets.takes_x, depends_on: [s1.x, s2.x]}}}
              - name: fine
                config: {meta: {braid: {python: assets.takes_m, depends_on: [m]}}}
              - name: kwargs_take_params
                config:
                  meta:
                    braid:
                      python: assets.takes_m_and_kwargs
                      depends_on: [m]
                      params: {horizon: 3, anything: [1, 2]}
        """,
    # the function's signature against depends_on, params and io
    "models/functions.yml": """
        version: 2
        exposures:
          - name: partitioned_exposure
            type: ml
            owner: {name: Data Science}
            config: {meta: {braid: {python: assets.takes_m, depends_on: [m],
                                    partitions: {event_time: d, batch_size: month,
                                                 begin: "2026-01-01"}}}}
          - name: unmatched_parameter
            type: ml
            owner: {name: Data Science}
            config: {meta: {braid: {python: assets.takes_m_and_horizon, depends_on: [m]}}}
          - name: dependency_not_accepted
            type: ml
            owner: {name: Data Science}
            config: {meta: {braid: {python: assets.takes_nothing, depends_on: [m]}}}
          - name: ref_not_accepted
            type: ml
            owner: {name: Data Science}
            depends_on: [ref('m')]
            config: {meta: {braid: {python: assets.takes_nothing}}}
          - name: param_not_accepted
            type: ml
            owner: {name: Data Science}
            config:
              meta:
                braid: {python: assets.takes_m, depends_on: [m], params: {horizon: 3}}
          - name: param_and_dependency
            type: ml
            owner: {name: Data Science}
            config: {meta: {braid: {python: assets.takes_m, depends_on: [m], params: {m: 1}}}}
          - name: positional_only
            type: ml
            owner: {name: Data Science}
            config: {meta: {braid: {python: assets.positional, depends_on: [m]}}}
          - name: unknown_io
            type: ml
            owner: {name: Data Science}
            config: {meta: {braid: {python: assets.takes_m, depends_on: [m], io: s3}}}
          - name: table_io_on_exposure
            type: ml
            owner: {name: Data Science}
            config: {meta: {braid: {python: assets.takes_m, depends_on: [m], io: table}}}
          - name: context_as_dependency
            type: ml
            owner: {name: Data Science}
            config: {meta: {braid: {python: assets.takes_x, depends_on: {context: m}}}}
          - name: context_as_param
            type: ml
            owner: {name: Data Science}
            config:
              meta: {braid: {python: assets.takes_m, depends_on: [m], params: {context: 1}}}
          - name: on_ephemeral
            type: ml
            owner: {name: Data Science}
            config: {meta: {braid: {python: assets.takes_x, depends_on: {x: eph}}}}
          - name: on_disabled
            type: ml
            owner: {name: Data Science}
            config: {meta: {braid: {python: assets.takes_x, depends_on: {x: disabled_m}}}}
        """,
    "models/eph.sql": "{{ config(materialized='ephemeral') }} select 1 as id",
    "models/disabled_m.sql": "{{ config(enabled=false) }} select 1 as id",
    # more.yml: cycles, empty blocks, names, more shapes and modules (issue 14)
    "models/more.yml": """
        version: 2
        sources:
          - name: more
            tables:
              - name: empty_block
                config: {meta: {braid: }}
              - name: empty_mapping
                config: {meta: {braid: {}}}
              - name: braid_a_list
                config: {meta: {braid: [assets.takes_m]}}
              - name: braid_a_number
                config: {meta: {braid: 7}}
              - name: python_trailing_dot
                config: {meta: {braid: {python: "assets."}}}
              - name: python_leading_dot
                config: {meta: {braid: {python: ".takes_m"}}}
              - name: python_with_space
                config: {meta: {braid: {python: "assets.takes_m ", depends_on: [m]}}}
              - name: misspelled_depends_on
                config: {meta: {braid: {python: assets.takes_m, dependson: [m]}}}
              - name: owner_a_number
                config: {meta: {braid: {python: assets.takes_m, depends_on: [m], owner: 5}}}
              - name: group_a_list
                config: {meta: {braid: {python: assets.takes_m, depends_on: [m], group: [a]}}}
              - name: description_a_mapping
                config:
                  meta: {braid: {python: assets.takes_m, depends_on: [m], description: {a: 1}}}
              - name: io_empty
                config: {meta: {braid: {python: assets.takes_m, depends_on: [m], io: ""}}}
              - name: depends_on_a_string
                config: {meta: {braid: {python: assets.takes_m, depends_on: m}}}
              - name: unknown_source_dependency
                config: {meta: {braid: {python: assets.takes_x, depends_on: {x: nosuch.table}}}}
              - name: dependency_on_a_test
                config:
                  meta: {braid: {python: assets.takes_x, depends_on: {x: not_null_m_id}}}
              - name: exits_at_import
                config: {meta: {braid: {python: exits.f, depends_on: [m]}}}
              - name: not_utf8
                config: {meta: {braid: {python: latin.f, depends_on: [m]}}}
              - name: builtin_function
                config: {meta: {braid: {python: more.getcwd, depends_on: [m]}}}
              - name: function_in_a_missing_submodule
                config: {meta: {braid: {python: assets.takes_m.inner, depends_on: [m]}}}
              - name: tags_numbers
                config: {meta: {braid: {python: assets.takes_m, depends_on: [m], tags: [1, 2]}}}
              - name: on_plain_exposure
                config: {meta: {braid: {python: assets.takes_x, depends_on: {x: plain_exposure}}}}
              - name: param_bad_name
                config:
                  meta: {braid: {python: assets.takes_m_and_kwargs, depends_on: [m],
                                 params: {my-param: 1}}}
        exposures:
          - name: plain_exposure
            type: dashboard
            owner: {name: me}
          - name: loop_self
            type: ml
            owner: {name: me}
            config: {meta: {braid: {python: more.loop_self, depends_on: [loop_self]}}}
          - name: cyc_a
            type: ml
            owner: {name: me}
            config: {meta: {braid: {python: more.cyc_a, depends_on: [cyc_b]}}}
          - name: cyc_b
            type: ml
            owner: {name: me}
            config: {meta: {braid: {python: more.lacks_its_input, depends_on: [cyc_a]}}}
          - name: "../../escape"
            type: ml
            owner: {name: me}
            config: {meta: {braid: {python: assets.takes_nothing}}}
          - name: .hidden
            type: ml
            owner: {name: me}
            config: {meta: {braid: {python: assets.takes_nothing}}}
          - name: declared_coding_is_fine
            type: ml
            owner: {name: me}
            config: {meta: {braid: {python: latin_declared.f, depends_on: [m]}}}
          - name: async_is_fine
            type: ml
            owner: {name: me}
            config: {meta: {braid: {python: more.fetch, depends_on: [m]}}}
        """,
    "models/m.yml": """
        version: 2
        models:
          - name: m
            columns:
              - name: id
                data_tests: [not_null]
        """,
    "python_assets/more.py": '''
        from os import getcwd


        def loop_self(loop_self):
            return loop_self


        def cyc_a(cyc_b):
            return cyc_b


        def lacks_its_input():
            return None


        async def fetch(m):
            return m
        ''',
    "python_assets/exits.py": '''
        """A module that calls sys.exit(0) when imported."""
        import sys

        sys.exit(0)


        def f(m):
            return m
        ''',
    "models/misplaced.yml": """
        version: 2
        models:
          - name: eph
            config: {meta: {braid: {python: assets.takes_nothing}}}
        """,
}


@dataclass(frozen=True)
class Case:
    file: str
    resource: str
    key: str
    fix: tuple[str, ...]


def _src(file: str, table: str, key: str, *fix: str) -> Case:
    source = Path(file).stem
    return Case(f"models/{file}", f"source {source}.{table}", key, fix)


def _exp(name: str, key: str, *fix: str) -> Case:
    return Case("models/functions.yml", f"exposure {name}", key, fix)


def _more(table: str, key: str, *fix: str) -> Case:
    return Case("models/more.yml", f"source more.{table}", key, fix)


BROKEN_CASES: dict[str, Case] = {
    # keys.yml: the JSON Schema
    "unknown key, did you mean": _src(
        "keys.yml", "unknown_key", "meta.braid.parms", "unknown key", "did you mean 'params'?"),
    "python not a string": _src(
        "keys.yml", "python_not_string", "meta.braid.python",
        "must be a string module.function", "python: forecast.train", "got a number 3"),
    "params not a mapping": _src(
        "keys.yml", "params_not_mapping", "meta.braid.params",
        "must be a mapping name: value", "got a list [1, 2]"),
    "depends_on a number": _src(
        "keys.yml", "depends_on_number", "meta.braid.depends_on",
        "must be a list of names or a mapping argument: name", "got a number 3"),
    "tags wrong type": _src(
        "keys.yml", "tags_wrong_type", "meta.braid.tags",
        "must be a string or a list of strings", "got a mapping"),
    "timeout not a duration": _src(
        "keys.yml", "timeout_not_duration", "meta.braid.timeout",
        "must be a duration", "timeout: 10m", "got a string 'soon'"),
    "timeout of nothing": _src(
        "keys.yml", "timeout_zero", "meta.braid.timeout", "must be more than 0"),
    "retries negative": _src(
        "keys.yml", "retries_negative", "meta.braid.retries",
        "must be a count, or {count, delay, backoff}", "retries: {count: 3, delay: 30s"),
    "retries unknown key": _src(
        "keys.yml", "retries_unknown_key", "meta.braid.retries",
        "must be a count, or {count, delay, backoff}", "got a mapping"),
    "braid meta not a mapping": _src(
        "keys.yml", "meta_not_mapping", "meta.braid",
        "must be a mapping", "write braid: {python: assets.takes_m}"),
    "python not module.function": _src(
        "keys.yml", "python_not_dotted", "meta.braid.python",
        "'takes_m' is not module.function", "write e.g. python: forecast.train"),
    "python missing": _src(
        "keys.yml", "python_missing", "meta.braid.python",
        "missing", "add python: module.function"),
    "argument name not an identifier": _src(
        "keys.yml", "bad_argument_name", "meta.braid.depends_on.1st",
        "'1st' is not a valid Python argument name", "not starting with a digit"),
    "depends_on mapping value not a name": _src(
        "keys.yml", "dependency_not_a_name", "meta.braid.depends_on.m",
        "must be a name (a string)", "got a number 3"),
    "io not a string": _src(
        "keys.yml", "io_not_string", "meta.braid.io",
        "must be the name of an IO manager", "io: pickle"),
    # modules.yml: loading python:
    "missing module": _src(
        "modules.yml", "missing_module", "meta.braid.python",
        "no module python_assets/no_such_module.py", "create it or fix the module name"),
    "missing function": _src(
        "modules.yml", "missing_function", "meta.braid.python",
        "python_assets/assets.py has no function 'take_m'", "did you mean 'takes_m'?"),
    "python names a constant": _src(
        "modules.yml", "not_a_function", "meta.braid.python",
        "'CONST' is not a function", "name a function"),
    "syntax error in module": _src(
        "modules.yml", "syntax_error", "meta.braid.python",
        "syntax error in", "python_assets/bad_syntax.py line 3", "fix the module"),
    "import error in module": _src(
        "modules.yml", "import_error", "meta.braid.python",
        "python_assets/imports_missing.py", "No module named 'braid_no_such_package'",
        "install it or fix the import"),
    "module raises at import": _src(
        "modules.yml", "raises_at_import", "meta.braid.python",
        "python_assets/raises.py raised RuntimeError: cannot read settings",
        "raises.py line 2", "fix the module"),
    "package in python: not installed": _src(
        "modules.yml", "package_not_installed", "meta.braid.python",
        "'notapkg' is not an installed dbt package", "packages.yml", "dbt deps"),
    # deps.yml: resolving depends_on
    "unknown dependency, did you mean": _src(
        "deps.yml", "unknown_dependency", "meta.braid.depends_on",
        "unknown dependency 'mm'", "did you mean 'm'?"),
    "bare source-table name": _src(
        "deps.yml", "bare_table_name", "meta.braid.depends_on",
        "unknown name 'orders'", "source.table", "'raw.orders'"),
    "two dependencies as one argument": _src(
        "deps.yml", "same_argument", "meta.braid.depends_on",
        "two dependencies arrive as argument 'x'", "source.proj.s1.x", "source.proj.s2.x",
        "use the mapping form argument: name"),
    "partitions of an unknown size": _src(
        "keys.yml", "partitions_week", "meta.braid.partitions",
        "must be {event_time, batch_size, begin, lookback}", "batch_size hour, day, month or "
        "year", "got a string 'week'"),
    "partitions begin not a date": _src(
        "keys.yml", "partitions_begin_soon", "meta.braid.partitions",
        "begin: 'soon' is not a date or a timestamp", 'begin: "2026-01-01"'),
    "a param named start in a partitioned asset": _src(
        "keys.yml", "partitions_param_start", "meta.braid.params.start",
        "'start' is the window's start in a partitioned asset", "rename the param"),
    "start taken without partitions": _src(
        "keys.yml", "start_without_partitions", "meta.braid.python",
        "takes 'start', which matches no dependency",
        "start and end are given to partitioned assets only"),
    # functions.yml: the function's signature
    "partitions on an exposure": _exp(
        "partitioned_exposure", "meta.braid.partitions",
        "a partitioned asset replaces windows of a table", "declare it on a source"),
    "parameter matches nothing": _exp(
        "unmatched_parameter", "meta.braid.python",
        "assets.takes_m_and_horizon() takes 'horizon'",
        "matches no dependency, param or 'context'", "add it to depends_on or params"),
    "dependency not accepted": _exp(
        "dependency_not_accepted", "meta.braid.depends_on",
        "assets.takes_nothing() has no parameter 'm'", "model.proj.m", "add the parameter"),
    "exposure ref not accepted": _exp(
        "ref_not_accepted", "depends_on",
        "assets.takes_nothing() has no parameter 'm'", "from the exposure's depends_on",
        "meta.braid.depends_on: {argument: name}"),
    "param not accepted": _exp(
        "param_not_accepted", "meta.braid.params.horizon",
        "assets.takes_m() has no parameter 'horizon'", "add it or **kwargs"),
    "same name as param and dependency": _exp(
        "param_and_dependency", "meta.braid.params.m",
        "'m' is both a param and a dependency", "rename one"),
    "positional-only parameter": _exp(
        "positional_only", "meta.braid.python",
        "parameter 'm' is positional-only", "remove the '/'"),
    "unknown io manager": _exp(
        "unknown_io", "meta.braid.io",
        "unknown IO manager 's3'", "registered: ", "pickle", "table"),
    "io: table on an exposure": _exp(
        "table_io_on_exposure", "meta.braid.io",
        "needs a source table", "declare the asset on a source, or use io: pickle"),
    "context as a dependency's argument": _exp(
        "context_as_dependency", "meta.braid.depends_on.context",
        "'context' is the argument braid passes the run context in", "rename it"),
    "context as a param": _exp(
        "context_as_param", "meta.braid.params.context",
        "'context' is the argument braid passes the run context in", "another name"),
    "dependency on an ephemeral model": _exp(
        "on_ephemeral", "meta.braid.depends_on.x",
        "'eph' is an ephemeral model", "no table to read", "materialize it"),
    "dependency on a disabled model": _exp(
        "on_disabled", "meta.braid.depends_on.x",
        "'disabled_m' is disabled in dbt", "enable it or remove the dependency"),
    # more.yml (issue 14)
    "empty braid block": _more("empty_block", "meta.braid.python", "missing",
                               "add python: module.function"),
    "empty braid mapping": _more("empty_mapping", "meta.braid.python", "missing"),
    "braid a list": _more("braid_a_list", "meta.braid", "must be a mapping", "got a list"),
    "braid a number": _more("braid_a_number", "meta.braid", "must be a mapping",
                            "got a number 7"),
    "python with a trailing dot": _more("python_trailing_dot", "meta.braid.python",
                                        "is not module.function"),
    "python with a leading dot": _more("python_leading_dot", "meta.braid.python",
                                       "is not module.function"),
    "python with a space": _more("python_with_space", "meta.braid.python",
                                 "is not module.function"),
    "misspelled depends_on": _more("misspelled_depends_on", "meta.braid.dependson",
                                   "unknown key", "did you mean 'depends_on'?"),
    "owner a number": _more("owner_a_number", "meta.braid.owner",
                            "must be a string or a mapping", "got a number 5"),
    "group a list": _more("group_a_list", "meta.braid.group", "must be a string"),
    "description a mapping": _more("description_a_mapping", "meta.braid.description",
                                   "must be a string", "got a mapping"),
    "io empty": _more("io_empty", "meta.braid.io", "must be the name of an IO manager"),
    "depends_on a bare string": _more("depends_on_a_string", "meta.braid.depends_on",
                                      "must be a list of names"),
    "dependency on an unknown source": _more(
        "unknown_source_dependency", "meta.braid.depends_on.x", "unknown dependency",
        "'nosuch.table'"),
    "dependency on a data test": _more(
        "dependency_on_a_test", "meta.braid.depends_on.x", "unknown dependency",
        "'not_null_m_id'"),
    "module exits at import": _more(
        "exits_at_import", "meta.braid.python", "python_assets/exits.py called sys.exit(0)",
        "must not exit when imported"),
    "module not UTF-8": _more(
        "not_utf8", "meta.braid.python", "python_assets/latin.py",
        "cannot be decoded as Python source", "save it as UTF-8"),
    "imported builtin with the wrong signature": _more(
        "builtin_function", "meta.braid.depends_on", "getcwd"),
    "function of a missing submodule": _more(
        "function_in_a_missing_submodule", "meta.braid.python",
        "'assets' is not an installed dbt package", "or fix the module name"),
    "tags a list of numbers": _more("tags_numbers", "meta.braid.tags",
                                    "must be a string or a list of strings"),
    "dependency on an exposure that is no asset": _more(
        "on_plain_exposure", "meta.braid.depends_on.x",
        "'plain_exposure' is an exposure without a Python asset", "holds no data"),
    "param name not an identifier": _more(
        "param_bad_name", "meta.braid.params.my-param", "not a valid Python argument name"),
    "self dependency is a cycle": Case(
        "models/more.yml", "exposure loop_self", "meta.braid.depends_on",
        ("dependency cycle: python:loop_self depends on itself",)),
    "cycle reported beside a signature problem": Case(
        "models/more.yml", "exposure cyc_a", "meta.braid.depends_on",
        ("dependency cycle: python:cyc_a -> python:cyc_b -> python:cyc_a",)),
    "the signature problem in that cycle": Case(
        "models/more.yml", "exposure cyc_b", "meta.braid.depends_on", ("cyc_a",)),
    "name escaping the store": Case(
        "models/more.yml", "exposure ../../escape", "name",
        ("cannot name a Python asset", "no '/', no '..'")),
    "hidden name": Case(
        "models/more.yml", "exposure .hidden", "name", ("cannot name a Python asset",)),
    "meta.braid on a model": Case(
        "models/misplaced.yml", "model eph", "meta.braid",
        ("declared on a source table or an exposure, not on a model",)),
}


@dataclass(frozen=True)
class Shared:
    project: Project
    result: subprocess.CompletedProcess[str]
    rerun: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> Shared:
    """The broken project, run twice (``braid run``) to check the report is stable."""
    root = tmp_path_factory.mktemp("broken") / "proj"
    root.mkdir()
    project = Project(root)
    project.write({**project_files(), **BROKEN_FILES})
    # not UTF-8: refused with a clear line; the same bytes with a coding line: fine
    body = "\n\ndef f(m):\n    return m  # caf\u00e9\n".encode("latin-1")
    (root / "python_assets" / "latin.py").write_bytes(b'"""Latin-1."""' + body)
    (root / "python_assets" / "latin_declared.py").write_bytes(
        b"# -*- coding: latin-1 -*-\n" + body)
    env = {"BRAID_TEST_DB": str(project.db), "BRAID_STORE_DIR": str(root / ".braid" / "store")}
    first = project.braid("run", env=env)
    second = project.braid("run", env=env)
    return Shared(project, first, second)


@pytest.mark.parametrize("case", BROKEN_CASES.values(), ids=list(BROKEN_CASES))
def test_declaration_error(broken: Shared, case: Case) -> None:
    assert_rejected(broken.project, broken.result)
    line = problem_line(broken.result, case.file, case.resource, case.key)
    assert_fix(line, *case.fix)


def test_all_problems_reported_together_one_line_each(broken: Shared) -> None:
    assert_rejected(broken.project, broken.result)
    lines = problem_lines(broken.result)
    # one line per problem, every problem of every file, nothing else on stderr
    assert len(lines) == len(BROKEN_CASES), broken.result.stderr
    for case in BROKEN_CASES.values():
        problem_line(broken.result, case.file, case.resource, case.key)
    # the valid declarations are not mentioned
    assert not [line for line in lines if "deps.fine" in line or "kwargs_take_params" in line
                or "is_fine" in line]
    # sorted by file, then resource, and stable from one run to the next
    where = [tuple(line.split(": ")[:2]) for line in lines]
    assert where == sorted(where)
    assert broken.rerun.returncode == 2
    assert broken.rerun.stderr == broken.result.stderr
    assert not broken.project.db.exists() or not tables(broken.project)


# --------------------------------------------------------------------------------------------
# cases that need a project of their own


NAMESPACE_YML = """
    version: 2
    sources:
      - name: fc
        tables:
          - name: m
            config: {meta: {braid: {python: assets.make}}}
      - name: a
        tables:
          - name: dup
            config: {meta: {braid: {python: assets.make}}}
      - name: b
        tables:
          - name: dup
            config: {meta: {braid: {python: assets.make}}}
    """


def test_name_clashes(make_project) -> None:
    project = make_project({
        **MODEL,
        "python_assets/assets.py": "def make():\n    return None\n",
        "models/sources.yml": NAMESPACE_YML,
    })
    result = project.braid("run")
    assert_rejected(project, result)
    yml = "models/sources.yml"
    line = problem_line(result, yml, "source fc.m", "name")
    assert_fix(line, "Python asset 'm' clashes with model.proj.m", "share one namespace",
               "rename one", "identifier:")
    line = problem_line(result, yml, "source a.dup", "name")
    assert_fix(line, "Python asset 'dup' clashes with source.proj.b.dup", "rename one")
    line = problem_line(result, yml, "source b.dup", "name")
    assert_fix(line, "Python asset 'dup' clashes with source.proj.a.dup", "rename one")
    assert len(problem_lines(result)) == 3, result.stderr


TWO_PACKAGES_EACH_WITH_M = {
    **MODEL,
    "packages.yml": "packages:\n  - local: pkg\n",
    "pkg/dbt_project.yml": 'name: pkg\nversion: "1.0"\nconfig-version: 2\n',
    "pkg/models/m.sql": "{{ config(alias='pkg_m') }}\nselect 2 as id\n",
    "python_assets/assets.py": "def predict(m):\n    return m\n",
    "models/sources.yml": """
        version: 2
        sources:
          - name: fc
            tables:
              - name: pred
                config: {meta: {braid: {python: assets.predict, depends_on: [m]}}}
        """,
}


def test_ambiguous_name_across_packages(make_project) -> None:
    project = make_project(TWO_PACKAGES_EACH_WITH_M)
    deps = project.braid("deps")
    assert deps.returncode == 0, deps.stdout + deps.stderr
    result = project.braid("run")
    assert_rejected(project, result, models=("m", "pkg_m"))
    line = problem_line(result, "models/sources.yml", "source fc.pred", "meta.braid.depends_on")
    assert_fix(line, "ambiguous name 'm'", "model.pkg.m", "model.proj.m",
               "qualify it as package.name", "'pkg.m' or 'proj.m'")
    assert len(problem_lines(result)) == 1, result.stderr


CYCLES_THROUGH_DBT_AND_PYTHON = {
    "models/m.sql": "select * from {{ source('fc', 'pred') }}\n",
    "python_assets/assets.py": (
        "def predict(m):\n    return m\n\n\n"
        "def first(second):\n    return second\n\n\n"
        "def second(first):\n    return first\n"
    ),
    "models/sources.yml": """
        version: 2
        sources:
          - name: fc
            tables:
              - name: pred
                config: {meta: {braid: {python: assets.predict, depends_on: [m]}}}
        exposures:
          - name: first
            type: ml
            owner: {name: Data Science}
            config: {meta: {braid: {python: assets.first, depends_on: [second]}}}
          - name: second
            type: ml
            owner: {name: Data Science}
            config: {meta: {braid: {python: assets.second, depends_on: [first]}}}
        """,
}


def test_cycles_through_dbt_and_python(make_project) -> None:
    project = make_project(CYCLES_THROUGH_DBT_AND_PYTHON)
    result = project.braid("run")
    assert_rejected(project, result)
    yml = "models/sources.yml"
    line = problem_line(result, yml, "source fc.pred", "meta.braid.depends_on")
    assert_fix(line, "dependency cycle: python:pred -> model m -> python:pred",
               "remove one of these dependencies")
    # the Python-only cycle is reported in the same run, once
    cycle = [line for line in problem_lines(result) if "python:first" in line]
    assert len(cycle) == 1, result.stderr
    assert cycle[0].startswith(f"{yml}: exposure first: meta.braid.depends_on: ")
    assert_fix(cycle[0], "python:first -> python:second -> python:first")
    assert len(problem_lines(result)) == 2, result.stderr


PARAMS_INTO_KWARGS = {
    **MODEL,
    "python_assets/assets.py": '''
        import pandas as pd


        def predict(m, **kwargs):
            return pd.DataFrame({"rows": [len(m)], "horizon": [kwargs["horizon"]],
                                 "label": [kwargs["label"]]})
        ''',
    "models/sources.yml": """
        version: 2
        sources:
          - name: fc
            tables:
              - name: pred
                config:
                  meta:
                    braid:
                      python: assets.predict
                      depends_on: [m]
                      params: {horizon: 3, label: weekly}
        """,
}


def test_kwargs_accepts_extra_params(make_project) -> None:
    """Not an error: a function with **kwargs takes params it does not name."""
    project = make_project(PARAMS_INTO_KWARGS)
    result = project.braid("run")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Traceback" not in output
    assert project.sql("select rows, horizon, label from fc.pred") == [(1, 3, "weekly")]
