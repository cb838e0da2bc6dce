#!/usr/bin/env bash
# Set up a fresh machine for mock-semble: venv, package, offline GraphiQL assets.
#   scripts/setup.sh          what `mock-semble serve` needs
#   scripts/setup.sh --test   plus test tools (pytest extras, Chromium, wrk, npm client libs)
# Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."
want_test=0
[ "${1:-}" = "--test" ] && want_test=1
PYTHON=${PYTHON:-python3}

need_apt=()
command -v npm >/dev/null 2>&1 || need_apt+=(nodejs npm)
if [ "$want_test" = 1 ]; then
  [ -x /usr/bin/chromium ] || need_apt+=(chromium)      # the GraphiQL browser test
  command -v wrk >/dev/null 2>&1 || need_apt+=(wrk)     # the benchmark's load generator
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: apt-get install ${need_apt[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "setup: please install: ${need_apt[*]} (continuing without them)" >&2
  fi
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null

# GraphiQL's JS/CSS are dependencies, fetched with npm and checked against pinned hashes.
if command -v npm >/dev/null 2>&1; then
  .venv/bin/python scripts/fetch_graphiql_assets.py
else
  echo "setup: npm not found; GraphiQL will load its assets from the CDN" >&2
fi

if [ "$want_test" = 1 ]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]"
  if [ -f examples/package.json ]; then
    (cd examples && npm install --silent --no-audit --no-fund)
  fi
else
  .venv/bin/python -m pip install -q --disable-pip-version-check -e .
fi
echo "setup: ready ($(.venv/bin/mock-semble --version))"
