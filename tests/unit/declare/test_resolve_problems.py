"""Declaration problems found by ``resolve_assets`` itself, without dbt (SPEC §2-§4).

The pure half of tests/e2e/test_declaration_errors.py: the same broken declarations, each
expecting the same ``<yaml file>: <resource>: <key>: <what is wrong; fix>`` line, but handed
straight to :func:`dbt_braid.declare.resolve.resolve_assets` as ``read_declarations`` makes
them from stand-in sources and exposures (``resolve_builders``), with a hand-built
``ProjectIndex`` and real module files in ``python_assets/``. The e2e file keeps checking that
a real dbt parse gets the blocks there and that the CLI prints the lines and exits 2.

Each case resolves on its own over the same background (model ``m``, an ephemeral ``eph``,
a disabled ``disabled_m``, the source tables ``raw.orders``, ``s1.x``, ``s2.x`` and a plain
exposure), so a case's lines are exactly its problems; one test resolves them all at once,
as the e2e project does.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from dbt_braid.core.assets import PythonAsset, Relation, RetryPolicy
from dbt_braid.core.windows import PartitionSpec
from resolve_builders import PROJECT, Project, exposure, node, own_asset_modules, source

# --------------------------------------------------------------------------------------------
# the modules: the e2e project's, without pandas (nothing here calls a function)

MODULES = {
    "assets.py": '''
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
            return m


        def takes_m_and_start(m, start):
            return m


        def takes_window(m, start, end, context, horizon=2):
            return context.vars["region"]


        def make():
            return None
        ''',
    "bad_syntax.py": '''
        """A module with a syntax error on line 3."""

        def f(m:
            return m
        ''',
    "imports_missing.py": '''
        """A module importing a package that is not installed."""
        import braid_no_such_package


        def f(m):
            return braid_no_such_package.go(m)
        ''',
    "raises.py": '''
        """A module that raises while it is imported."""
        raise RuntimeError("cannot read settings")
        ''',
    "more.py": '''
        from os import getcwd


        def loop_self(loop_self):
            return loop_self


        def cyc_a(cyc_b):
            return cyc_b


        def lacks_its_input():
            return None


        async def fetch(m):
            return m


        def first(second):
            return second


        def second(first):
            return first
        ''',
    "exits.py": '''
        """A module that calls sys.exit(0) when imported."""
        import sys

        sys.exit(0)


        def f(m):
            return m
        ''',
}


def write_modules(root: Path) -> None:
    """``python_assets/`` of the project at ``root``, the Latin-1 pair included."""
    folder = root / "python_assets"
    folder.mkdir(parents=True)
    for name, text in MODULES.items():
        (folder / name).write_text(textwrap.dedent(text).lstrip())
    # not UTF-8: refused with a clear line; the same bytes with a coding line: fine
    body = "\n\ndef f(m):\n    return m  # caf\u00e9\n".encode("latin-1")
    (folder / "latin.py").write_bytes(b'"""Latin-1."""' + body)
    (folder / "latin_declared.py").write_bytes(b"# -*- coding: latin-1 -*-\n" + body)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The root project's folder, with its modules; the assets imported from it forgotten
    when the module's tests are done."""
    folder = tmp_path_factory.mktemp("resolve") / PROJECT
    write_modules(folder)
    with own_asset_modules():
        yield folder


def background(root: Path) -> Project:
    """The e2e ``broken`` project without its declarations."""
    return Project(
        root,
        (
            node("m"),
            node("eph", materialized="ephemeral"),
            source("raw", "orders", file="models/deps.yml"),
            source("s1", "x", file="models/deps.yml"),
            source("s2", "x", file="models/deps.yml"),
            exposure("plain_exposure", file="models/more.yml", owner={"name": "me"}),
        ),
        disabled=frozenset({"disabled_m"}),
    )


# --------------------------------------------------------------------------------------------
# the cases: what is declared, and the lines the e2e case expects


@dataclass(frozen=True)
class Line:
    """One expected problem line: its ``file: resource: key: `` prefix and fragments."""

    file: str
    resource: str
    key: str
    fix: tuple[str, ...]

    @property
    def prefix(self) -> str:
        return f"{self.file}: {self.resource}: {self.key}: "


@dataclass(frozen=True)
class Case:
    resources: tuple[SimpleNamespace, ...]
    lines: tuple[Line, ...]


def _src(file: str, table: str, braid: Any, key: str, *fix: str, where: str = "config") -> Case:
    name = Path(file).stem
    return Case((source(name, table, braid, file=f"models/{file}", where=where),),
                (Line(f"models/{file}", f"source {name}.{table}", key, fix),))


def _exp(name: str, braid: Any, key: str, *fix: str, depends_on: tuple[str, ...] = ()) -> Case:
    file = "models/functions.yml"
    return Case((exposure(name, braid, file=file, depends_on=depends_on),),
                (Line(file, f"exposure {name}", key, fix),))


def _more(table: str, braid: Any, key: str, *fix: str) -> Case:
    return _src("more.yml", table, braid, key, *fix)


def _more_exp(name: str, braid: Any, key: str, *fix: str) -> Case:
    file = "models/more.yml"
    return Case((exposure(name, braid, file=file, owner={"name": "me"}),),
                (Line(file, f"exposure {name}", key, fix),))


def _on_m(python: str = "assets.takes_m", **more: Any) -> dict[str, Any]:
    """A block reading model m, with ``more`` keys."""
    return {"python": python, "depends_on": ["m"], **more}


def _as_x(name: str) -> dict[str, Any]:
    """A block reading ``name`` as argument ``x`` (depends_on's mapping form)."""
    return {"python": "assets.takes_x", "depends_on": {"x": name}}


def _windows(batch_size: str = "day", begin: Any = "2026-01-01") -> dict[str, Any]:
    return {"event_time": "d", "batch_size": batch_size, "begin": begin}


CYCLE = Case(
    (exposure("cyc_a", {"python": "more.cyc_a", "depends_on": ["cyc_b"]},
              file="models/more.yml", owner={"name": "me"}),
     exposure("cyc_b", {"python": "more.lacks_its_input", "depends_on": ["cyc_a"]},
              file="models/more.yml", owner={"name": "me"})),
    (Line("models/more.yml", "exposure cyc_a", "meta.braid.depends_on",
          ("dependency cycle: python:cyc_a -> python:cyc_b -> python:cyc_a",)),
     # the signature problem in that cycle, reported beside it
     Line("models/more.yml", "exposure cyc_b", "meta.braid.depends_on", ("cyc_a",))),
)

#: the e2e ``broken`` project's cases, one declaration (or two, for the cycle) each
CASES: dict[str, Case] = {
    # keys.yml: the JSON Schema
    "unknown key, did you mean": _src(
        "keys.yml", "unknown_key", _on_m(parms={"horizon": 3}), "meta.braid.parms",
        "unknown key", "did you mean 'params'?", where="meta"),
    "python not a string": _src(
        "keys.yml", "python_not_string", {"python": 3}, "meta.braid.python",
        "must be a string module.function", "python: forecast.train", "got a number 3"),
    "params not a mapping": _src(
        "keys.yml", "params_not_mapping", _on_m(params=[1, 2]), "meta.braid.params",
        "must be a mapping name: value", "got a list [1, 2]"),
    "depends_on a number": _src(
        "keys.yml", "depends_on_number", {"python": "assets.takes_m", "depends_on": 3},
        "meta.braid.depends_on",
        "must be a list of names or a mapping argument: name", "got a number 3"),
    "tags wrong type": _src(
        "keys.yml", "tags_wrong_type", _on_m(tags={"a": 1}), "meta.braid.tags",
        "must be a string or a list of strings", "got a mapping"),
    "timeout not a duration": _src(
        "keys.yml", "timeout_not_duration", _on_m(timeout="soon"), "meta.braid.timeout",
        "must be a duration", "timeout: 10m", "got a string 'soon'"),
    "timeout of nothing": _src(
        "keys.yml", "timeout_zero", _on_m(timeout="0s"), "meta.braid.timeout",
        "must be more than 0"),
    "retries negative": _src(
        "keys.yml", "retries_negative", _on_m(retries={"count": -1}), "meta.braid.retries",
        "must be a count, or {count, delay, backoff}", "retries: {count: 3, delay: 30s"),
    "retries unknown key": _src(
        "keys.yml", "retries_unknown_key", _on_m(retries={"count": 2, "tries": 3}),
        "meta.braid.retries", "must be a count, or {count, delay, backoff}", "got a mapping"),
    "braid meta not a mapping": _src(
        "keys.yml", "meta_not_mapping", "assets.takes_m", "meta.braid",
        "must be a mapping", "write braid: {python: assets.takes_m}"),
    "python not module.function": _src(
        "keys.yml", "python_not_dotted", _on_m("takes_m"), "meta.braid.python",
        "'takes_m' is not module.function", "write e.g. python: forecast.train"),
    "python missing": _src(
        "keys.yml", "python_missing", {"depends_on": ["m"]}, "meta.braid.python",
        "missing", "add python: module.function"),
    "argument name not an identifier": _src(
        "keys.yml", "bad_argument_name", {"python": "assets.takes_m", "depends_on": {"1st": "m"}},
        "meta.braid.depends_on.1st",
        "'1st' is not a valid Python argument name", "not starting with a digit"),
    "depends_on mapping value not a name": _src(
        "keys.yml", "dependency_not_a_name", {"python": "assets.takes_m", "depends_on": {"m": 3}},
        "meta.braid.depends_on.m", "must be a name (a string)", "got a number 3"),
    "io not a string": _src(
        "keys.yml", "io_not_string", _on_m(io=3), "meta.braid.io",
        "must be the name of an IO manager", "io: pickle"),
    "partitions of an unknown size": _src(
        "keys.yml", "partitions_week", _on_m(partitions=_windows("week")),
        "meta.braid.partitions", "must be {event_time, batch_size, begin, lookback}",
        "batch_size hour, day, month or year", "got a string 'week'"),
    "partitions begin not a date": _src(
        "keys.yml", "partitions_begin_soon", _on_m(partitions=_windows(begin="soon")),
        "meta.braid.partitions",
        "begin: 'soon' is not a date or a timestamp", 'begin: "2026-01-01"'),
    "a param named start in a partitioned asset": _src(
        "keys.yml", "partitions_param_start",
        # YAML reads an unquoted begin: 2026-01-01 as a date
        _on_m("assets.takes_m_and_kwargs", params={"start": 1},
              partitions=_windows(begin=date(2026, 1, 1))),
        "meta.braid.params.start",
        "'start' is the window's start in a partitioned asset", "rename the param"),
    "start taken without partitions": _src(
        "keys.yml", "start_without_partitions", _on_m("assets.takes_m_and_start"),
        "meta.braid.python", "takes 'start', which matches no dependency",
        "start and end are given to partitioned assets only"),
    # modules.yml: loading python:
    "missing module": _src(
        "modules.yml", "missing_module", _on_m("no_such_module.f"), "meta.braid.python",
        "no module python_assets/no_such_module.py", "create it or fix the module name"),
    "missing function": _src(
        "modules.yml", "missing_function", _on_m("assets.take_m"), "meta.braid.python",
        "python_assets/assets.py has no function 'take_m'", "did you mean 'takes_m'?"),
    "python names a constant": _src(
        "modules.yml", "not_a_function", _on_m("assets.CONST"), "meta.braid.python",
        "'CONST' is not a function", "name a function"),
    "syntax error in module": _src(
        "modules.yml", "syntax_error", _on_m("bad_syntax.f"), "meta.braid.python",
        "syntax error in", "python_assets/bad_syntax.py line 3", "fix the module"),
    "module raises at import": _src(
        "modules.yml", "raises_at_import", _on_m("raises.f"), "meta.braid.python",
        "python_assets/raises.py raised RuntimeError: cannot read settings",
        "raises.py line 2", "fix the module"),
    "package in python: not installed": _src(
        "modules.yml", "package_not_installed", _on_m("notapkg.models.fit"),
        "meta.braid.python", "'notapkg' is not an installed dbt package", "packages.yml",
        "dbt deps"),
    # deps.yml: resolving depends_on
    "unknown dependency, did you mean": _src(
        "deps.yml", "unknown_dependency", {"python": "assets.takes_m", "depends_on": ["mm"]},
        "meta.braid.depends_on", "unknown dependency 'mm'", "did you mean 'm'?"),
    "bare source-table name": _src(
        "deps.yml", "bare_table_name", {"python": "assets.takes_m", "depends_on": ["m", "orders"]},
        "meta.braid.depends_on", "unknown name 'orders'", "source.table", "'raw.orders'"),
    "two dependencies as one argument": _src(
        "deps.yml", "same_argument", {"python": "assets.takes_x", "depends_on": ["s1.x", "s2.x"]},
        "meta.braid.depends_on", "two dependencies arrive as argument 'x'",
        "source.proj.s1.x", "source.proj.s2.x", "use the mapping form argument: name"),
    # functions.yml: the function's signature
    "partitions on an exposure": _exp(
        "partitioned_exposure", _on_m(partitions=_windows("month")), "meta.braid.partitions",
        "a partitioned asset replaces windows of a table", "declare it on a source"),
    "parameter matches nothing": _exp(
        "unmatched_parameter", _on_m("assets.takes_m_and_horizon"), "meta.braid.python",
        "assets.takes_m_and_horizon() takes 'horizon'",
        "matches no dependency, param or 'context'", "add it to depends_on or params"),
    "dependency not accepted": _exp(
        "dependency_not_accepted", _on_m("assets.takes_nothing"), "meta.braid.depends_on",
        "assets.takes_nothing() has no parameter 'm'", "model.proj.m", "add the parameter"),
    "exposure ref not accepted": _exp(
        "ref_not_accepted", {"python": "assets.takes_nothing"}, "depends_on",
        "assets.takes_nothing() has no parameter 'm'", "from the exposure's depends_on",
        "meta.braid.depends_on: {argument: name}", depends_on=("model.proj.m",)),
    "param not accepted": _exp(
        "param_not_accepted", _on_m(params={"horizon": 3}), "meta.braid.params.horizon",
        "assets.takes_m() has no parameter 'horizon'", "add it or **kwargs"),
    "same name as param and dependency": _exp(
        "param_and_dependency", _on_m(params={"m": 1}), "meta.braid.params.m",
        "'m' is both a param and a dependency", "rename one"),
    "positional-only parameter": _exp(
        "positional_only", _on_m("assets.positional"), "meta.braid.python",
        "parameter 'm' is positional-only", "remove the '/'"),
    "unknown io manager": _exp(
        "unknown_io", _on_m(io="s3"), "meta.braid.io",
        "unknown IO manager 's3'", "registered: ", "pickle", "table"),
    "io: table on an exposure": _exp(
        "table_io_on_exposure", _on_m(io="table"), "meta.braid.io",
        "needs a source table", "declare the asset on a source, or use io: pickle"),
    "context as a dependency's argument": _exp(
        "context_as_dependency", {"python": "assets.takes_x", "depends_on": {"context": "m"}},
        "meta.braid.depends_on.context",
        "'context' is the argument braid passes the run context in", "rename it"),
    "context as a param": _exp(
        "context_as_param", _on_m(params={"context": 1}), "meta.braid.params.context",
        "'context' is the argument braid passes the run context in", "another name"),
    "dependency on an ephemeral model": _exp(
        "on_ephemeral", _as_x("eph"),
        "meta.braid.depends_on.x",
        "'eph' is an ephemeral model", "no table to read", "materialize it"),
    "dependency on a disabled model": _exp(
        "on_disabled", _as_x("disabled_m"),
        "meta.braid.depends_on.x",
        "'disabled_m' is disabled in dbt", "enable it or remove the dependency"),
    # more.yml (issue 14)
    "empty braid block": _more("empty_block", None, "meta.braid.python", "missing",
                               "add python: module.function"),
    "empty braid mapping": _more("empty_mapping", {}, "meta.braid.python", "missing"),
    "braid a list": _more("braid_a_list", ["assets.takes_m"], "meta.braid",
                          "must be a mapping", "got a list"),
    "braid a number": _more("braid_a_number", 7, "meta.braid", "must be a mapping",
                            "got a number 7"),
    "python with a trailing dot": _more("python_trailing_dot", {"python": "assets."},
                                        "meta.braid.python", "is not module.function"),
    "python with a leading dot": _more("python_leading_dot", {"python": ".takes_m"},
                                       "meta.braid.python", "is not module.function"),
    "python with a space": _more("python_with_space", _on_m("assets.takes_m "),
                                 "meta.braid.python", "is not module.function"),
    "misspelled depends_on": _more(
        "misspelled_depends_on", {"python": "assets.takes_m", "dependson": ["m"]},
        "meta.braid.dependson", "unknown key", "did you mean 'depends_on'?"),
    "owner a number": _more("owner_a_number", _on_m(owner=5), "meta.braid.owner",
                            "must be a string or a mapping", "got a number 5"),
    "group a list": _more("group_a_list", _on_m(group=["a"]), "meta.braid.group",
                          "must be a string"),
    "description a mapping": _more("description_a_mapping", _on_m(description={"a": 1}),
                                   "meta.braid.description", "must be a string", "got a mapping"),
    "io empty": _more("io_empty", _on_m(io=""), "meta.braid.io",
                      "must be the name of an IO manager"),
    "depends_on a bare string": _more(
        "depends_on_a_string", {"python": "assets.takes_m", "depends_on": "m"},
        "meta.braid.depends_on", "must be a list of names"),
    "dependency on an unknown source": _more(
        "unknown_source_dependency", _as_x("nosuch.table"),
        "meta.braid.depends_on.x", "unknown dependency", "'nosuch.table'"),
    "dependency on a data test": _more(
        "dependency_on_a_test", _as_x("not_null_m_id"),
        "meta.braid.depends_on.x", "unknown dependency", "'not_null_m_id'"),
    "module not UTF-8": _more(
        "not_utf8", _on_m("latin.f"), "meta.braid.python", "python_assets/latin.py",
        "cannot be decoded as Python source", "save it as UTF-8"),
    "imported builtin with the wrong signature": _more(
        "builtin_function", _on_m("more.getcwd"), "meta.braid.depends_on", "getcwd"),
    "function of a missing submodule": _more(
        "function_in_a_missing_submodule", _on_m("assets.takes_m.inner"), "meta.braid.python",
        "'assets' is not an installed dbt package", "or fix the module name"),
    "tags a list of numbers": _more("tags_numbers", _on_m(tags=[1, 2]), "meta.braid.tags",
                                    "must be a string or a list of strings"),
    "dependency on an exposure that is no asset": _more(
        "on_plain_exposure", _as_x("plain_exposure"),
        "meta.braid.depends_on.x",
        "'plain_exposure' is an exposure without a Python asset", "holds no data"),
    "param name not an identifier": _more(
        "param_bad_name", _on_m("assets.takes_m_and_kwargs", params={"my-param": 1}),
        "meta.braid.params.my-param", "not a valid Python argument name"),
    "self dependency is a cycle": _more_exp(
        "loop_self", {"python": "more.loop_self", "depends_on": ["loop_self"]},
        "meta.braid.depends_on", "dependency cycle: python:loop_self depends on itself"),
    "cycle reported beside a signature problem": CYCLE,
    "name escaping the store": _more_exp(
        "../../escape", {"python": "assets.takes_nothing"}, "name",
        "cannot name a Python asset", "no '/', no '..'"),
    "hidden name": _more_exp(".hidden", {"python": "assets.takes_nothing"}, "name",
                             "cannot name a Python asset"),
    "meta.braid on a model": Case(
        (node("eph", materialized="ephemeral", braid={"python": "assets.takes_nothing"},
              patch_file="models/misplaced.yml"),),
        (Line("models/misplaced.yml", "model eph", "meta.braid",
              ("declared on a source table or an exposure, not on a model",)),)),
}

#: declarations of the e2e project that are fine: never mentioned in a report
VALID = (
    source("deps", "fine", _on_m(), file="models/deps.yml"),
    source("deps", "kwargs_take_params",
           _on_m("assets.takes_m_and_kwargs", params={"horizon": 3, "anything": [1, 2]}),
           file="models/deps.yml"),
    exposure("declared_coding_is_fine", _on_m("latin_declared.f"), file="models/more.yml"),
    exposure("async_is_fine", _on_m("more.fetch"), file="models/more.yml"),
)

#: modules that fail only when imported, which happens when asked to (import_on_error):
#: their ``def f`` is plain, so the source says all that validation needs
IMPORT_ERRORS: dict[str, Case] = {
    "import error in module": _src(
        "modules.yml", "import_error", _on_m("imports_missing.f"), "meta.braid.python",
        "python_assets/imports_missing.py", "No module named 'braid_no_such_package'",
        "install it or fix the import"),
    "module exits at import": _more(
        "exits_at_import", _on_m("exits.f"), "meta.braid.python",
        "python_assets/exits.py called sys.exit(0)", "must not exit when imported"),
}


def assert_lines(lines: list[str], expected: tuple[Line, ...]) -> None:
    """Each expected line once, with its fragments, and nothing else."""
    for want in expected:
        hits = [line for line in lines if line.startswith(want.prefix)]
        assert len(hits) == 1, f"want one line starting {want.prefix!r}, got:\n" + "\n".join(lines)
        for fragment in want.fix:
            assert fragment in hits[0], f"{fragment!r} not in {hits[0]!r}"
    assert len(lines) == len(expected), "\n".join(lines)


@pytest.mark.parametrize("case", CASES.values(), ids=list(CASES))
def test_declaration_problem(root: Path, case: Case) -> None:
    lines = background(root).with_resources(*case.resources).problems()
    assert_lines(lines, case.lines)


def test_every_problem_reported_together_sorted_and_stable(root: Path) -> None:
    """The e2e project in one pass, as ``braid run`` resolves it: one line per problem, the
    import failure included, none about the valid declarations, sorted, the same twice."""
    everything = [*CASES.values(), *IMPORT_ERRORS.values()]
    project = background(root).with_resources(
        *VALID, *(r for case in everything for r in case.resources))
    lines = project.problems(import_on_error=True)
    assert_lines(lines, tuple(line for case in everything for line in case.lines))
    assert not [line for line in lines if "deps.fine" in line or "kwargs_take_params" in line
                or "is_fine" in line]
    assert lines == sorted(lines)
    assert project.problems(import_on_error=True) == lines


@pytest.mark.parametrize("case", IMPORT_ERRORS.values(), ids=list(IMPORT_ERRORS))
def test_import_failures_join_a_report_only_when_asked(root: Path, case: Case) -> None:
    """A module that cannot be imported is found from its source: resolving alone says
    nothing (``braid run`` imports it before running); beside another problem, a command
    that will run Python (import_on_error) reports it in the same pass."""
    broken = CASES["unknown dependency, did you mean"]
    alone = background(root).with_resources(*case.resources)
    assert alone.problems(import_on_error=True) == []
    both = alone.with_resources(*broken.resources)
    assert_lines(both.problems(import_on_error=False), broken.lines)
    assert_lines(both.problems(import_on_error=True), broken.lines + case.lines)


# --------------------------------------------------------------------------------------------
# the e2e cases with a project of their own: the shared namespace


def test_name_clashes(root: Path) -> None:
    yml = "models/sources.yml"
    lines = Project(root, (
        node("m"),
        source("fc", "m", {"python": "assets.make"}, file=yml),
        source("a", "dup", {"python": "assets.make"}, file=yml),
        source("b", "dup", {"python": "assets.make"}, file=yml),
    )).problems()
    assert_lines(lines, (
        Line(yml, "source fc.m", "name", ("Python asset 'm' clashes with model.proj.m",
                                          "share one namespace", "rename one", "identifier:")),
        Line(yml, "source a.dup", "name", ("Python asset 'dup' clashes with source.proj.b.dup",
                                           "rename one")),
        Line(yml, "source b.dup", "name", ("Python asset 'dup' clashes with source.proj.a.dup",
                                           "rename one")),
    ))


def test_an_exposure_asset_clashing_with_a_seed_keeps_no_identifier_hint(root: Path) -> None:
    yml = "models/exposures.yml"
    lines = Project(root, (
        node("m", resource_type="seed", materialized=None),
        exposure("m", {"python": "assets.make"}, file=yml),
    )).problems()
    assert lines == [
        f"{yml}: exposure m: name: Python asset 'm' clashes with seed.proj.m; asset and dbt "
        "model/seed/snapshot names share one namespace, rename one"]


def test_ambiguous_name_across_packages(root: Path, tmp_path: Path) -> None:
    yml = "models/sources.yml"
    lines = Project(
        root,
        (node("m"), node("m", package="pkg"),
         source("fc", "pred", {"python": "assets.takes_m", "depends_on": ["m"]}, file=yml)),
        packages={"pkg": tmp_path / "pkg"},
    ).problems()
    assert_lines(lines, (Line(yml, "source fc.pred", "meta.braid.depends_on", (
        "ambiguous name 'm'", "model.pkg.m", "model.proj.m", "qualify it as package.name",
        "'pkg.m' or 'proj.m'")),))


def test_cycles_through_dbt_and_python(root: Path) -> None:
    yml = "models/sources.yml"
    lines = Project(root, (
        node("m", parents=("source.proj.fc.pred",)),
        source("fc", "pred", {"python": "assets.takes_m", "depends_on": ["m"]}, file=yml),
        exposure("first", {"python": "more.first", "depends_on": ["second"]}, file=yml),
        exposure("second", {"python": "more.second", "depends_on": ["first"]}, file=yml),
    )).problems()
    assert_lines(lines, (
        Line(yml, "source fc.pred", "meta.braid.depends_on", (
            "dependency cycle: python:pred -> model m -> python:pred",
            "remove one of these dependencies")),
        # the Python-only cycle in the same pass, once
        Line(yml, "exposure first", "meta.braid.depends_on", (
            "python:first -> python:second -> python:first",)),
    ))


# --------------------------------------------------------------------------------------------
# whole lines: the report's words, pinned for a few kinds of problem

EXACT = {
    "unknown key": (
        "unknown key, did you mean",
        "models/keys.yml: source keys.unknown_key: meta.braid.parms: unknown key; did you mean "
        "'params'?"),
    "a value of the wrong shape": (
        "timeout not a duration",
        "models/keys.yml: source keys.timeout_not_duration: meta.braid.timeout: must be a "
        "duration: seconds, or a number with s, m or h, e.g. timeout: 10m; got a string 'soon'"),
    "a timeout of nothing": (
        "timeout of nothing",
        "models/keys.yml: source keys.timeout_zero: meta.braid.timeout: must be more than 0, "
        "e.g. timeout: 10m"),
    "an unknown dependency": (
        "unknown dependency, did you mean",
        "models/deps.yml: source deps.unknown_dependency: meta.braid.depends_on: unknown "
        "dependency 'mm'; did you mean 'm'?"),
    "a parameter that matches nothing": (
        "parameter matches nothing",
        "models/functions.yml: exposure unmatched_parameter: meta.braid.python: "
        "assets.takes_m_and_horizon() takes 'horizon', which matches no dependency, param or "
        "'context'; add it to depends_on or params, or give it a default"),
    "a dependency the function does not take": (
        "dependency not accepted",
        "models/functions.yml: exposure dependency_not_accepted: meta.braid.depends_on: "
        "assets.takes_nothing() has no parameter 'm' for dependency model.proj.m; add the "
        "parameter or rename it with meta.braid.depends_on: {argument: name}"),
    "an unknown io manager": (
        "unknown io manager",
        "models/functions.yml: exposure unknown_io: meta.braid.io: unknown IO manager 's3'; "
        "registered: pickle, table"),
    "a param the window takes": (
        "a param named start in a partitioned asset",
        "models/keys.yml: source keys.partitions_param_start: meta.braid.params.start: 'start' "
        "is the window's start in a partitioned asset; rename the param"),
    "a self dependency": (
        "self dependency is a cycle",
        "models/more.yml: exposure loop_self: meta.braid.depends_on: dependency cycle: "
        "python:loop_self depends on itself; remove it from depends_on"),
    "a misplaced block": (
        "meta.braid on a model",
        "models/misplaced.yml: model eph: meta.braid: Python assets are declared on a source "
        "table or an exposure, not on a model; move the block to the source table the function "
        "produces"),
}


@pytest.mark.parametrize(("case", "line"), EXACT.values(), ids=list(EXACT))
def test_whole_problem_line(root: Path, case: str, line: str) -> None:
    assert background(root).with_resources(*CASES[case].resources).problems() == [line]


# --------------------------------------------------------------------------------------------
# valid declarations: what they resolve to


def resolved(project: Project) -> dict[str, PythonAsset]:
    return {asset.name: asset for asset in project.resolve()}


def test_a_source_asset_resolves_without_importing(root: Path) -> None:
    asset = resolved(background(root).with_resources(VALID[0]))["fine"]
    assert (asset.unique_id, asset.kind, asset.declared_by, asset.package_name) == (
        "python.proj.fine", "source", "source.proj.deps.fine", PROJECT)
    assert (asset.yaml_file, asset.python, asset.module_file) == (
        "models/deps.yml", "assets.takes_m", "python_assets/assets.py")
    assert asset.inputs == {"m": "model.proj.m"}
    assert (asset.io, asset.relation, asset.source_name) == (
        "table", Relation("db", "deps", "fine"), "deps")
    assert (asset.params, asset.tags, asset.timeout, asset.retries, asset.partitions) == (
        {}, (), None, RetryPolicy(), None)
    assert not asset.wants_context
    # found from the source: the module is imported only when the asset runs
    assert not asset.function_ref.loaded
    assert asset.code_version


def test_an_exposure_asset_takes_its_policies_and_the_exposures_words(root: Path) -> None:
    block = _on_m("assets.takes_m_and_horizon", params={"horizon": 3}, timeout="10m",
                  retries={"count": 3, "delay": "30s", "backoff": 2}, tags="ml")
    asset = resolved(background(root).with_resources(exposure(
        "forecast", block, file="models/exposures.yml", owner={"name": "Data Science"},
        group="finance", tags=["weekly"], description="The forecast.")))["forecast"]
    assert (asset.kind, asset.io, asset.relation, asset.source_name) == (
        "exposure", "pickle", None, None)
    assert (asset.params, asset.timeout) == ({"horizon": 3}, 600.0)
    assert asset.retries == RetryPolicy(count=3, delay=30.0, backoff=2.0)
    assert asset.tags == ("weekly", "ml")
    assert (asset.owner, asset.group, asset.description) == (
        {"name": "Data Science"}, "finance", "The forecast.")


def test_meta_braid_words_win_over_the_exposures(root: Path) -> None:
    block = _on_m(owner="Ops", group="ops", description="Mine.", tags=["weekly", "ml"])
    asset = resolved(background(root).with_resources(exposure(
        "forecast", block, file="models/exposures.yml", group="finance", tags=["weekly"],
        description="The forecast.")))["forecast"]
    assert (asset.owner, asset.group, asset.description, asset.tags) == (
        {"name": "Ops"}, "ops", "Mine.", ("weekly", "ml"))


def test_a_partitioned_asset_gets_its_windows_and_context(root: Path) -> None:
    block = {"python": "assets.takes_window", "depends_on": ["m"],
             "partitions": {**_windows(begin=date(2026, 1, 1)), "lookback": 2}}
    asset = resolved(background(root).with_resources(
        source("fc", "daily", block, file="models/sources.yml")))["daily"]
    assert asset.partitions == PartitionSpec("d", "day", datetime(2026, 1, 1, tzinfo=timezone.utc),
                                             2)
    assert asset.wants_context
    assert asset.vars_read == frozenset({"region"})


def test_dependencies_resolve_to_what_they_name(root: Path) -> None:
    """A source table another asset writes is that asset; the mapping form renames the
    argument; the exposure's own refs join the inputs under their names."""
    yml = "models/sources.yml"
    project = background(root).with_resources(
        source("fc", "pred", _on_m(), file=yml),
        source("raw", "orders", file="models/deps.yml"),
        exposure("report", {"python": "assets.takes_m_and_kwargs",
                            "depends_on": {"p": "fc.pred", "o": "raw.orders"}},
                 file=yml, depends_on=("model.proj.m", "source.proj.fc.pred")),
    )
    assert resolved(project)["report"].inputs == {
        "p": "python.proj.pred", "o": "source.proj.raw.orders", "m": "model.proj.m"}


def test_a_packages_function_and_a_packages_declaration(root: Path) -> None:
    """``python: pkg.module.function`` is found in the package's folder, shown relative to
    the declaring project; a package's declaration is reported by its path from the root."""
    pkg = root / "dbt_packages" / "pkg"
    (pkg / "python_assets").mkdir(parents=True, exist_ok=True)
    (pkg / "python_assets" / "helpers.py").write_text("def build(m):\n    return m\n")
    project = Project(root, (
        node("m"),
        source("fc", "built", _on_m("pkg.helpers.build"), file="models/sources.yml"),
        source("pkg_src", "bad", {"python": "helpers.nothing_here"}, file="models/pkg.yml",
               package="pkg"),
    ), packages={"pkg": pkg})
    lines = project.problems()
    assert_lines(lines, (Line("dbt_packages/pkg/models/pkg.yml", "source pkg_src.bad",
                              "meta.braid.python", ("has no function 'nothing_here'",)),))
    fine = Project(root, project.resources[:2], packages={"pkg": pkg})
    asset = resolved(fine)["built"]
    assert asset.module_file == "dbt_packages/pkg/python_assets/helpers.py"
    assert asset.inputs == {"m": "model.proj.m"}


def test_the_e2e_projects_valid_declarations_resolve(root: Path) -> None:
    assets = resolved(background(root).with_resources(*VALID))
    assert sorted(assets) == ["async_is_fine", "declared_coding_is_fine", "fine",
                              "kwargs_take_params"]
    assert assets["kwargs_take_params"].params == {"horizon": 3, "anything": [1, 2]}
    assert assets["async_is_fine"].module_file == "python_assets/more.py"
    assert assets["declared_coding_is_fine"].inputs == {"m": "model.proj.m"}
