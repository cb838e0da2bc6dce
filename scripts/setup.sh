#!/usr/bin/env bash
# Set up a machine for mock-semble: a venv with the package installed (editable). The
# package's build brings GraphiQL's pinned assets itself (HTTPS from the npm registry,
# hash-checked; no npm needed).
#   scripts/setup.sh          what `mock-semble serve` needs: Python only, nothing from apt
#   scripts/setup.sh --test   plus the test tools: pytest extras, Chromium (GraphiQL and
#                             inspector tests), wrk (benchmark), Node + the examples' npm libs
# Idempotent and quiet: once set up, a run only checks (no network, no pip) and prints
# one line. Any change to pyproject.toml, the build backend or the examples' lockfile
# makes the next run install again.
set -euo pipefail
cd "$(dirname "$0")/.."
want_test=0
[ "${1:-}" = "--test" ] && want_test=1
PYTHON=${PYTHON:-python3}
STAMP=.venv/.mock-semble-setup

fingerprint() { # what an install depends on
  cat pyproject.toml build_backend/*.py | sha256sum | cut -c1-16
}
lock_fingerprint() {
  if [ -f examples/package-lock.json ]; then sha256sum <examples/package-lock.json | cut -c1-16; fi
}
ready() { echo "setup: ready ($(.venv/bin/mock-semble --version))"; }

# --- the check: everything in place means nothing to do ----------------------------------
up_to_date() {
  [ -x .venv/bin/python ] && [ -x .venv/bin/mock-semble ] && [ -f "$STAMP" ] || return 1
  local stamp
  stamp=$(cat "$STAMP")
  [ "${stamp%% *}" = "$(fingerprint)" ] || return 1
  if [ "$want_test" = 1 ]; then
    case "$stamp" in *" test "*) ;; *) return 1 ;; esac
    if [ -f examples/package.json ] && command -v npm >/dev/null 2>&1; then
      [ -d examples/node_modules ] && [ "${stamp##* }" = "lock=$(lock_fingerprint)" ] || return 1
    fi
  fi
  .venv/bin/python scripts/fetch_graphiql_assets.py --check >/dev/null 2>&1
}
if up_to_date; then
  ready
  exit 0
fi

# --- system packages: only for the test tools --------------------------------------------
if [ "$want_test" = 1 ]; then
  need_apt=()
  [ -x /usr/bin/chromium ] || need_apt+=(chromium)         # GraphiQL and inspector tests
  command -v wrk >/dev/null 2>&1 || need_apt+=(wrk)         # the benchmark's load generator
  command -v npm >/dev/null 2>&1 || need_apt+=(nodejs npm)  # the Node client example
  if [ ${#need_apt[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "setup: apt-get install ${need_apt[*]}"
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
    else
      echo "setup: please install: ${need_apt[*]} (continuing without them)" >&2
    fi
  fi
fi

# --- the venv and the package ------------------------------------------------------------
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
target=.
[ "$want_test" = 1 ] && target=".[test]"
echo "setup: installing mock-semble ($target) into .venv"
.venv/bin/python -m pip install -q --disable-pip-version-check -e "$target"
.venv/bin/python scripts/fetch_graphiql_assets.py --check >/dev/null # the build brought them

lock=
if [ "$want_test" = 1 ] && [ -f examples/package.json ] && command -v npm >/dev/null 2>&1; then
  (cd examples && npm install --silent --no-audit --no-fund)
  lock=$(lock_fingerprint)
fi
mode=serve
[ "$want_test" = 1 ] && mode=test
echo "$(fingerprint) $mode lock=$lock" >"$STAMP"
ready
