"""``braid build`` where ``dbt build`` was (issue 27): the same exit code, statuses and
messages, hooks and console on projects that use what real projects use, with a Python
asset between two dbt invocations (side_by_side.py compares; its tables name where braid
must differ and why)."""

from __future__ import annotations

import pytest
from helpers import Project, copy_integration_project, template_project
from side_by_side import compare, run_both

#: what the project's hooks see: logged as HOOK lines, compared side by side
REPORT_HOOK = """
    {% macro report_hook(kind) %}
      {% if execute %}
        {{ log("HOOK " ~ kind ~ " selected=" ~ (selected_resources | sort | join(",")),
               info=True) }}
        {% if kind == 'end' and var('refuse_at_end', false) %}
          {{ exceptions.raise_compiler_error("the end hook refuses this run") }}
        {% endif %}
        {% if kind == 'end' %}
          {% set seen = [] %}
          {% for r in results %}{% do seen.append(r.node.unique_id ~ ":" ~ r.status) %}{% endfor %}
          {{ log("HOOK end results=" ~ (seen | sort | join(",")), info=True) }}
          {# as Tuva's log_warning_for_seeds: the seeds that loaded no rows #}
          {% set empty = [] %}
          {% for r in results if r.node.resource_type == 'seed'
                              and (r.adapter_response or {}).get('rows_affected') == 0 %}
            {% do empty.append(r.node.name) %}
          {% endfor %}
          {{ log("HOOK end empty seeds=" ~ (empty | sort | join(",")), info=True) }}
        {% endif %}
      {% endif %}
      select 1
    {% endmacro %}
    """

#: a model, a Python asset reading it, models reading the asset (so two dbt invocations),
#: a unit test of one of them, passing and failing ephemeral chains, data tests that warn
#: and that fail, seeds with and without rows, a snapshot, a microbatch model (which dbt
#: warns about while parsing), a deprecated test config, and hooks
DROP_IN = {
    "dbt_project.yml": """
        name: proj
        version: "1.0"
        config-version: 2
        profile: proj
        on-run-start: ["{{ report_hook('start') }}"]
        on-run-end: ["{{ report_hook('end') }}"]
        """,
    "macros/report_hook.sql": REPORT_HOOK,
    "models/a.sql": "{{ config(materialized='table') }} select 1 as id, 10 as amount",
    "models/b.sql": "select id, amount * 2 as amount from {{ source('py', 'p') }}",
    "models/c.sql": "select * from {{ ref('b') }}",
    "models/e_ok.sql": "{{ config(materialized='ephemeral') }} select id from {{ ref('a') }}",
    "models/uses_ok.sql": "select * from {{ ref('e_ok') }}",
    "models/e_bad.sql": """
        {{ config(materialized='ephemeral') }}
        {% if execute %}{{ exceptions.raise_compiler_error("e_bad cannot compile") }}{% endif %}
        select 1 as id
        """,
    "models/uses_bad_1.sql": "select * from {{ ref('e_bad') }}",
    "models/uses_bad_2.sql": "select * from {{ ref('e_bad') }}",
    "models/after_bad.sql": "select * from {{ ref('uses_bad_1') }}",
    # downstream of the failed ephemeral model and of the Python asset: the second invocation
    "models/late_bad.sql": "select * from {{ ref('uses_bad_2') }}, {{ source('py', 'p') }}",
    "models/daily.sql": """
        {{ config(materialized='incremental', incremental_strategy='microbatch',
                  event_time='day', begin='2025-01-01', batch_size='year') }}
        select cast('2025-06-01' as date) as day, 1 as n
        """,
    "models/sources.yml": """
        version: 2
        sources:
          - name: py
            tables:
              - name: p
                config: {meta: {braid: {python: p.make, depends_on: [a]}}}
        models:
          - name: a
            columns:
              - name: id
                data_tests: [not_null]
              - name: amount
                data_tests:
                  - accepted_values:
                      arguments: {values: [11]}
                      config: {severity: warn}
          - name: c
            columns:
              - name: id
                data_tests:
                  - not_null
                  # the arguments not under arguments: dbt's deprecation warning
                  - accepted_values:
                      values: [1]
          - name: uses_ok
            columns:
              - name: id
                data_tests:
                  - accepted_values:
                      arguments: {values: [99]}
        unit_tests:
          - name: b_doubles
            model: b
            given:
              - input: source('py', 'p')
                rows: [{id: 1, amount: 2}]
            expect:
              rows: [{id: 1, amount: 4}]
        """,
    "python_assets/p.py": "def make(a):\n    return a\n",
    "seeds/empty_seed.csv": "id,name\n",
    "seeds/full_seed.csv": "id,name\n1,x\n",
    "snapshots/snap.sql": """
        {% snapshot snap %}
        {{ config(target_schema='main', unique_key='id', strategy='check', check_cols='all') }}
        select * from {{ ref('full_seed') }}
        {% endsnapshot %}
        """,
}


@pytest.fixture(scope="module")
def drop_in(tmp_path_factory) -> Project:
    """The project with the Python asset's table written once, so that dbt reads it."""
    return template_project(tmp_path_factory, DROP_IN, ("run", "-s", "a", "python:p"))


def test_build_split_by_a_python_asset_reads_as_dbt_build(drop_in, tmp_path) -> None:
    dbt, braid = run_both(drop_in, tmp_path, "build")
    print("\n".join(["--- dbt", *dbt.lines, "--- braid", *braid.lines]))
    # the run really is two invocations around the Python asset, and fails as dbt's does
    assert braid.python == {"python.proj.p": "success"}
    assert dbt.returncode == 1
    comparison = compare(dbt, braid)
    assert comparison, "\n".join(comparison.differences)
    # the four points, said outright (compare() would name them too)
    assert "HOOK end empty seeds=empty_seed" in braid.hooks
    end = next(h for h in braid.hooks if h.startswith("HOOK end selected="))
    assert "model.proj.a," in end and "model.proj.c," in end and "model.proj.e_bad," in end
    assert braid.results["model.proj.uses_bad_1"] == (
        "skipped", "Compilation Error in model.proj.uses_bad_1, caused by compilation error "
        "in referenced ephemeral model model.proj.e_bad")
    starts = [k for k, _, rest in braid.numbered if rest.startswith("START unit_test")]
    assert starts and all(n == braid.numbered[0][1] for _, n, _ in braid.numbered)
    done = next(i for i, line in enumerate(braid.lines) if line.startswith("Done. "))
    summaries = [i for i, line in enumerate(braid.lines) if "DeprecationsSummary" in line]
    assert all(i > done for i in summaries) and len(summaries) <= 1


def test_build_with_an_exclusion_reads_as_dbt_build(drop_in, tmp_path) -> None:
    """The same selection on both sides: hooks see the same selected_resources."""
    dbt, braid = run_both(drop_in, tmp_path, "build", "--exclude", "uses_ok", "e_bad+")
    comparison = compare(dbt, braid)
    assert comparison, "\n".join(comparison.differences)
    assert "model.proj.uses_ok" not in braid.results
    assert braid.results["model.proj.c"][0] == "success"


@pytest.fixture(scope="module")
def integration(tmp_path_factory) -> Project:
    """A copy of the integration project, built once by braid (dbt reads the Python
    assets' tables as sources)."""
    root = tmp_path_factory.mktemp("integration") / "it"
    copy_integration_project(root)
    project = Project(root, env={"BRAID_TEST_DB": str(root / "warehouse.duckdb"),
                                 "BRAID_STORE_DIR": str(root / ".braid" / "store")})
    for args in (("deps",), ("build",)):
        done = project.braid(*args)
        assert done.returncode == 0, done.stdout + done.stderr
    return project


def test_the_integration_project_builds_as_dbt_builds_it(integration, tmp_path) -> None:
    dbt, braid = run_both(integration, tmp_path, "build")
    print("\n".join(["--- dbt", *dbt.lines, "--- braid", *braid.lines]))
    assert len(braid.python) >= 3
    comparison = compare(dbt, braid)
    assert comparison, "\n".join(comparison.differences)


def test_a_failing_end_hook_fails_the_run_as_in_dbt(drop_in, tmp_path) -> None:
    """What a project's on-run-end decides (Tuva's error_empty_seeds, say) decides braid's
    exit code as it decides dbt's."""
    dbt, braid = run_both(drop_in, tmp_path, "build", "--exclude", "uses_ok", "e_bad+",
                          "--vars", "{refuse_at_end: true}")
    assert dbt.returncode == 2  # dbt: a failing hook ends the command with an error
    comparison = compare(dbt, braid)
    assert comparison, "\n".join(comparison.differences)


def test_run_reads_as_dbt_run(drop_in, tmp_path) -> None:
    """``braid run`` where ``dbt run`` was: models only, the same hooks and lines."""
    dbt, braid = run_both(drop_in, tmp_path, "run")
    assert braid.python == {"python.proj.p": "success"}
    comparison = compare(dbt, braid)
    assert comparison, "\n".join(comparison.differences)
    assert braid.results["model.proj.late_bad"][0] == "skipped"
