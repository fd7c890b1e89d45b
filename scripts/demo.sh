#!/usr/bin/env bash
# Set up invindex in .venv, build the sample index with the default (fast, local)
# runner (keeping texts for snippets), look a few terms up and run one search.
#   ./scripts/demo.sh [OUTPUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-sample-index}
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q -e '.[fast]'
.venv/bin/invindex build sample_data/docs.tsv --output "$out" --overwrite --store-text
.venv/bin/invindex lookup "$out" light darkness café
.venv/bin/invindex search "$out" '"the light" +darkness' -k 3 --snippets
