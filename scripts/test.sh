#!/usr/bin/env bash
# The test command: lint, types, then the whole suite against real dbt and real DuckDB files.
set -euo pipefail
source "$(dirname "$0")/bootstrap.sh"
cd "$REPO"
ruff check plugin tests python_assets integration_tests
mypy --config-file plugin/pyproject.toml plugin/src/dbt_braid
pytest -q -p no:cacheprovider "$@" tests
