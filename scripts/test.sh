#!/usr/bin/env bash
# The test command: lint, types, the import layers, the whole suite against real dbt (the newest supported
# release, 1.12) on real DuckDB files and PostgreSQL, then the dbt-facing tests again on
# dbt-core 1.11 and 1.10 (dbt_braid/dbtcore/versions.py lists what differs between them).
set -euo pipefail
# From Debian's packages, when missing: Chromium for the catalog page and braid serve (driven by
# Selenium), and PostgreSQL, of which the tests start a throwaway server on a free port
# (tests/pgserver.py; with CI set, the suite fails rather than skips without one).
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
source "$(dirname "$0")/bootstrap.sh"
make_venv "${BRAID_VENV:-$REPO/.venv}"
cd "$REPO"
ruff check plugin tests python_assets integration_tests bench examples
mypy --config-file plugin/pyproject.toml plugin/src/dbt_braid
# the layers of ARCHITECTURE.md, as plugin/pyproject.toml's import-linter contracts
lint-imports plugin/pyproject.toml
# the older releases' venvs are made while the main pass runs (pip waits on the network)
if [ "${BRAID_OLDER_DBT:-1}" = 1 ]; then
  (for minor in 11 10; do
     (make_venv "$REPO/.venv-dbt1$minor" "dbt-core>=1.$minor,<1.$((minor + 1))" \
       "dbt-duckdb>=1.9,<1.$((minor + 1))") || exit 1
   done) > "$REPO/.venvs-older.log" 2>&1 &
  venvs=$!
fi
# on every core; a test module stays on one worker (module fixtures such as the integration
# project's full run are made once)
pytest -q -p no:cacheprovider -n "${BRAID_TEST_WORKERS:-auto}" --dist loadscope "$@" tests
# The older supported releases: the tests that exercise dbt itself (every version
# difference; the seed scenario end to end, whose one full run also gives the console stream,
# the project hook, history through on-run-end for braid and plain dbt runs, and a partitioned
# asset's window rerun with dbt's microbatch model in the same run; run results and dbt retry
# on them; the console stream's header, numbering, failure list and JSON events; the
# selector, parsing and meta, build's test edges, plugin hooks around dbt nodes, freshness
# policies; dbt build and braid build side by side), on DuckDB (PostgreSQL IO is braid's own
# code, tested above). BRAID_OLDER_DBT=0 skips them.
IT=tests/e2e/test_integration_project.py
DBT_FACING=(tests/e2e/test_dbt_versions.py tests/unit/dbtcore/test_supported_releases.py
  "$IT::test_seed_scenario_runs_in_two_dbt_invocations[duckdb]"
  "$IT::test_demo_output_is_one_dbt_run[duckdb]"
  "$IT::test_history_records_every_node_of_the_run[duckdb]"
  "$IT::test_plain_dbt_run_records_history_through_on_run_end[duckdb]"
  "$IT::test_partitioned_asset_rerun_of_one_month_keeps_one_copy[duckdb]"
  tests/e2e/test_dbt_artifacts.py::test_run_results_hold_the_whole_run_and_hooks_run_once
  tests/e2e/test_dbt_artifacts.py::test_dbt_retry_reruns_what_a_failing_braid_run_skipped
  tests/e2e/test_console_stream.py::test_a_successful_run_reads_as_one_dbt_run
  tests/e2e/test_console_stream.py::test_a_failure_skips_both_kinds_and_is_listed_once
  tests/e2e/test_console_stream.py::test_json_logs_carry_one_summary_for_the_run
  tests/e2e/test_selection.py::test_ls_agrees_with_dbt_on_a_generated_project
  tests/e2e/test_build.py::test_build_selection_with_indirect_tests
  tests/e2e/test_declaration_errors.py::test_all_problems_reported_together_one_line_each
  tests/e2e/test_plugin_hooks.py::test_hook_after_dbt_node
  tests/e2e/test_schedules.py::test_freshness_policies_make_assets_overdue_and_due
  tests/e2e/test_drop_in.py::test_build_split_by_a_python_asset_reads_as_dbt_build
  tests/e2e/test_drop_in.py::test_the_integration_project_builds_as_dbt_builds_it)
if [ "${BRAID_OLDER_DBT:-1}" = 1 ]; then
  wait "$venvs" || { cat "$REPO/.venvs-older.log"; exit 1; }
  cat "$REPO/.venvs-older.log"
  # the two releases side by side (each pass is mostly one process), each to its own log
  pids=()
  for minor in 11 10; do
    venv="$REPO/.venv-dbt1$minor"
    ("$venv/bin/python" -c "import dbt.version as v; print('dbt-facing tests on dbt-core', v.__version__)"
     "$venv/bin/python" -m pytest -q -p no:cacheprovider "${DBT_FACING[@]}") \
      > "$REPO/.pytest-dbt1$minor.log" 2>&1 &
    pids+=($!)
  done
  failed=0
  for i in 0 1; do
    wait "${pids[$i]}" || failed=1
  done
  for minor in 11 10; do cat "$REPO/.pytest-dbt1$minor.log"; done
  exit $failed
fi
