#!/usr/bin/env bash
# Sourced by demo.sh and test.sh. `make_venv DIR [PIP SPEC...]` makes a venv (once), installs
# the plugin into it (plus any extra specs, e.g. a dbt-core pin) and puts it first on PATH.
# Re-running is cheap: pip skips what is already installed.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
export DBT_SEND_ANONYMOUS_USAGE_STATS=false
PARSER_REQ="dbt-core-experimental-parser>=2.0.0b1,<3"

_pip() {
  local venv="$1"; shift
  "$venv/bin/python" -m pip "$@" 2>&1 | grep -v -e "^WARNING: Location" -e "^$" || true
}

# dbt-core 1.12 requires dbt-core-experimental-parser, used only by its opt-in --use-v2-parser.
# Its source distribution downloads a binary while it builds, which a machine that reaches only
# the package indexes cannot do. Install the real one when possible, else the stand-in kept in
# tests/dbt_parser_standin (no binary; see its pyproject.toml), and say which.
ensure_experimental_parser() {
  local venv="$1"
  if ! "$venv/bin/python" -m pip show -q dbt-core-experimental-parser >/dev/null 2>&1; then
    if ! timeout 300 "$venv/bin/python" -m pip install -q "$PARSER_REQ" >/dev/null 2>&1; then
      _pip "$venv" install -q "$REPO/tests/dbt_parser_standin"
    fi
  fi
  if "$venv/bin/python" -c "import dbt_core_experimental_parser_standin" 2>/dev/null; then
    echo "note: dbt-core-experimental-parser could not be built here; installed braid's stand-in" \
      "(tests/dbt_parser_standin: no binary, so dbt's opt-in --use-v2-parser is not available)"
  fi
}

make_venv() {
  local venv="$1"; shift
  if [ ! -x "$venv/bin/python" ]; then
    "$PYTHON" -m venv "$venv"
    _pip "$venv" install -q --upgrade pip
  fi
  # a venv pinned below dbt-core 1.12 needs no parser package
  case " $* " in
    *" dbt-core>=1.10,<1.11 "*|*" dbt-core>=1.11,<1.12 "*) ;;
    *) ensure_experimental_parser "$venv" ;;
  esac
  _pip "$venv" install -q -e "$REPO/plugin[${BRAID_EXTRAS:-test}]" "$@"
  "$venv/bin/python" -c "import dbt_braid" || { echo "installing into $venv failed" >&2; exit 1; }
  export PATH="$venv/bin:$PATH"
}
