#!/usr/bin/env bash
# Sourced by demo.sh and test.sh. `make_venv DIR [PIP SPEC...]` makes a venv (once), installs
# the plugin into it (plus any extra specs, e.g. a dbt-core pin) and puts it first on PATH.
# Re-running is cheap: pip skips what is already installed.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
export DBT_SEND_ANONYMOUS_USAGE_STATS=false

make_venv() {
  local venv="$1"; shift
  if [ ! -x "$venv/bin/python" ]; then
    "$PYTHON" -m venv "$venv"
    "$venv/bin/python" -m pip install -q --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
  fi
  "$venv/bin/python" -m pip install -q -e "$REPO/plugin[${BRAID_EXTRAS:-test}]" "$@" 2>&1 \
    | grep -v -e "^WARNING: Location" -e "^$" || true
  "$venv/bin/python" -c "import dbt_braid" || { echo "installing into $venv failed" >&2; exit 1; }
  export PATH="$venv/bin:$PATH"
}
