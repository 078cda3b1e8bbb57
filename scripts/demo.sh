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
braid catalog --profiles-dir . > /dev/null
echo
echo "Results:     $REPO/integration_tests/target/braid/run_results.json"
echo "Lineage:     $REPO/integration_tests/target/braid/lineage.json"
echo "Predictions: table main_forecasting.predicted_orders in $REPO/integration_tests/target/braid_it.duckdb"
echo "Catalog:     $REPO/integration_tests/target/braid/catalog.html (open it in a browser;"
echo "             braid serve --profiles-dir . in integration_tests/ serves it live)"
