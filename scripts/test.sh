#!/usr/bin/env bash
# Set up everything the tests need on a fresh machine, then run them.
#   ./scripts/test.sh            # all tests, on 3 pytest-xdist workers
#   ./scripts/test.sh -k storage # extra arguments go to pytest
#   ./scripts/test.sh -n 0       # all tests in one process (TEST_WORKERS=N: N workers)
# Creates .venv (Python 3.11 or 3.12: mrjob 0.7.4 does not run on 3.13), installs
# invindex with every extra, installs the Azurite emulator from npm into
# tests/emulators/node_modules and Debian's chromium + chromium-driver (apt-get, as root)
# when missing, checks style with ruff, and runs pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

pick_python() {
    for py in "${PYTHON:-}" python3.11 python3.12 python3; do
        [ -n "$py" ] || continue
        if command -v "$py" >/dev/null 2>&1 &&
            "$py" -c 'import sys; sys.exit(not ((3, 11) <= sys.version_info[:2] < (3, 13)))' 2>/dev/null; then
            echo "$py"; return 0
        fi
    done
    echo "error: need Python 3.11 or 3.12 (set PYTHON=...)" >&2; return 1
}

# PostgreSQL's server binaries for tests/stores (initdb + pg_ctl on a loopback port).
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    else
        echo "warning: PostgreSQL server binaries missing (apt-get install postgresql); its tests skip" >&2
    fi
fi

PY=$(pick_python)
# Azurite from npm while pip works (each mostly waits on downloads and disk).
npm_pid=
npm_log=$(mktemp)
if [ -f tests/emulators/package.json ]; then
    (cd tests/emulators && if [ -f package-lock.json ]; then npm ci --silent --no-audit --no-fund; else npm install --silent --no-audit --no-fund; fi) >"$npm_log" 2>&1 &
    npm_pid=$!
fi
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[all]'
if [ -n "$npm_pid" ] && ! wait "$npm_pid"; then
    cat "$npm_log" >&2; echo "error: npm could not install Azurite (tests/emulators)" >&2; exit 1
fi
cat "$npm_log" >&2; rm -f "$npm_log"
# Debian's Chromium and ChromeDriver for the browser tests (tests/web), as root.
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
    else
        echo "note: chromium and chromium-driver are missing (as root: apt-get install" \
            "chromium chromium-driver); the browser tests will be skipped" >&2
    fi
fi
# iproute2's `ip` for the multi-host Spark tests (tests/scale/test_multihost.py: network
# namespaces, as root).
if ! command -v ip >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2 >/dev/null
    else
        echo "note: iproute2 is missing (as root: apt-get install iproute2); the" \
            "multi-host Spark tests will be skipped" >&2
    fi
fi
.venv/bin/ruff check .
# A file is one unit of work; tests/conftest.py puts the files with the longest tests first.
exec .venv/bin/python -m pytest -n "${TEST_WORKERS:-3}" --dist loadfile --no-loadscope-reorder "$@"
