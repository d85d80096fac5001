#!/usr/bin/env bash
# make demo: local stack up, a small realistic account seeded, one scan of everything,
# reports copied to ./demo-reports/, a readable summary, stack down.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=.venv/bin/python
trap '$PY tests/local/stack.py down' EXIT
$PY tests/local/stack.py up
source "${LOCAL_DIR:-.local}/env"
$PY tests/local/demo.py seed
run="demo-$(date -u +%Y%m%d-%H%M%S)"
target/debug/ila run --input examples/demo.json --name "$run"
rm -rf demo-reports
$PY tests/local/demo.py copy "$run" demo-reports
