#!/usr/bin/env bash
# The test command: lint, types, the whole suite against real dbt (newest supported 1.x) and
# real DuckDB files, then the dbt-facing tests again on dbt-core 1.10 (the oldest supported:
# 1.10 and 1.11 differ in how they parse meta). BRAID_DBT110=0 skips that second pass.
set -euo pipefail
# From Debian's packages, when missing: Chromium for the HTML lineage page (driven by
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
pytest -q -p no:cacheprovider "$@" tests
if [ "${BRAID_DBT110:-1}" = 1 ]; then
  make_venv "$REPO/.venv-dbt110" "dbt-core>=1.10,<1.11" "dbt-duckdb>=1.9,<1.11"
  python -c "import dbt.version as v; print('second pass on dbt-core', v.__version__)"
  pytest -q -p no:cacheprovider tests/test_integration_project.py tests/test_declaration_errors.py \
    tests/test_execution.py tests/test_build.py \
    "tests/test_history.py::test_every_run_records_itself_failures_and_skips_included" \
    "tests/test_history.py::test_plain_dbt_commands_record_through_on_run_end"
fi
