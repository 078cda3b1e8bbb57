#!/usr/bin/env bash
# The test command: lint, types, the whole suite against real dbt (the newest supported
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
# difference, run results and hooks, the seed scenario end to end, the selector, parsing and
# meta, build's test edges, the console stream built from dbt's events), on DuckDB
# (PostgreSQL IO is braid's own code, tested above).
# BRAID_OLDER_DBT=0 skips them.
DBT_FACING=(tests/test_dbt_versions.py tests/test_dbt_artifacts.py tests/test_console_stream.py
  tests/test_integration_project.py::test_seed_scenario_runs_in_two_dbt_invocations[duckdb]
  tests/test_partitions.py::test_backfill_three_days_then_rerun_one_with_dbt_microbatch
  tests/test_selection.py::test_ls_agrees_with_dbt_on_a_generated_project
  tests/test_build.py::test_build_selection_with_indirect_tests
  tests/test_declaration_errors.py::test_all_problems_reported_together_one_line_each
  tests/test_history.py::test_plain_dbt_commands_record_through_on_run_end
  tests/test_plugin_hooks.py::test_hook_after_dbt_node
  tests/test_schedules.py::test_freshness_policies_make_assets_overdue_and_due)
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
