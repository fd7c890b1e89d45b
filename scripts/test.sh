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

# Debian packages the tests need, installed in the background while pip and npm work (one
# `apt-get update`): PostgreSQL's server binaries (tests/stores: initdb + pg_ctl on a
# loopback port), Chromium + ChromeDriver (the browser tests, tests/web), iproute2's `ip`
# (tests/scale/test_multihost.py: network namespaces).
apt_pkgs=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 ||
    apt_pkgs+=(postgresql)
command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 ||
    apt_pkgs+=(chromium chromium-driver)
command -v ip >/dev/null 2>&1 || apt_pkgs+=(iproute2)
apt_pid=
apt_log=$(mktemp)
if [ ${#apt_pkgs[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        (apt-get update -qq &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_pkgs[@]}" >/dev/null
        ) >"$apt_log" 2>&1 &
        apt_pid=$!
    else
        echo "note: missing Debian packages (as root: apt-get install ${apt_pkgs[*]});" \
            "the tests that need them will be skipped" >&2
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
if [ -n "$apt_pid" ] && ! wait "$apt_pid"; then
    cat "$apt_log" >&2; echo "error: apt-get could not install ${apt_pkgs[*]}" >&2; exit 1
fi
rm -f "$apt_log"
.venv/bin/ruff check .
# A file is one unit of work; tests/conftest.py puts the files with the longest tests first.
exec .venv/bin/python -m pytest -n "${TEST_WORKERS:-3}" --dist loadfile --no-loadscope-reorder "$@"
