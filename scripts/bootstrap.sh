#!/usr/bin/env bash
# Sourced by demo.sh and test.sh: makes ./.venv (once) and installs the plugin into it.
# Re-running is cheap: pip skips what is already installed.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
VENV="${BRAID_VENV:-$REPO/.venv}"
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
fi
"$VENV/bin/python" -m pip install -q -e "$REPO/plugin[${BRAID_EXTRAS:-test}]" 2>&1 \
  | grep -v -e "^WARNING: Location" -e "^$" || true
export PATH="$VENV/bin:$PATH"
export DBT_SEND_ANONYMOUS_USAGE_STATS=false
