#!/usr/bin/env bash
# make demo: local stack up, a small Organization seeded (the management account, which holds
# the scanner, and three member accounts, one of them without the member role), one scan of
# every account side by side, reports copied to ./demo-reports/, a readable summary with a
# line per account, stack down.
#
# The run ends IncompleteRun, and `ila run` exits 1, because the account without the member
# role is UNREACHABLE: that is the demo's point, so the demo succeeds when it is the only
# account not scanned in full (tests/local/demo.py verdict) and fails otherwise.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=.venv/bin/python
trap '$PY tests/local/stack.py down' EXIT
$PY tests/local/stack.py up
source "${LOCAL_DIR:-.local}/env"
$PY tests/local/demo.py seed
run="demo-$(date -u +%Y%m%d-%H%M%S)"
input="${LOCAL_DIR:-.local}/demo-input.json"
$PY tests/local/demo.py input "$input"
status=0
target/debug/ila run --input "$input" --name "$run" || status=$?
if [[ $status -ne 0 && $status -ne 1 ]]; then
  echo "demo: ila run failed (exit $status) before the run could end" >&2
  exit $status
fi
rm -rf demo-reports
$PY tests/local/demo.py copy "$run" demo-reports
$PY tests/local/demo.py verdict "$run"
