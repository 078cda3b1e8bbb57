#!/usr/bin/env bash
# The demo: the integration project (a small shop) on DuckDB, dbt models and Python assets
# together in one `braid run`.
set -euo pipefail
source "$(dirname "$0")/bootstrap.sh"
make_venv "${BRAID_VENV:-$REPO/.venv}"
cd "$REPO/integration_tests"
rm -f target/braid_it.duckdb
braid deps --profiles-dir .
braid seed --profiles-dir .
braid run --profiles-dir .
echo
echo "Results:     $REPO/integration_tests/target/braid/run_results.json"
echo "Lineage:     $REPO/integration_tests/target/braid/lineage.json"
echo "Predictions: table main_forecasting.predicted_orders in $REPO/integration_tests/target/braid_it.duckdb"
