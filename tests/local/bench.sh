#!/usr/bin/env bash
# make bench: the local stack up, N principals seeded, ONE full scan measured, Cloud
# Custodian's usage filter as the peer, the stack down (always). The figures are the last
# lines, `name: value`. Exit non-zero if the run failed or reports_written != principals.
#
#   N=2000 R=10 JOB_SECONDS=5 THROTTLE_FRACTION=0 GRANULARITY=SERVICE_LEVEL bash tests/local/bench.sh
#   PEER=0 skips Cloud Custodian. MAX_CONCURRENCY / BATCH_SIZE / LAMBDA_CONCURRENCY go to the stack;
#   IAM_REQUESTS_PER_SECOND defaults to R / MAX_CONCURRENCY (the batches in flight share R),
#   IAM_BURST to 1 (each new invocation must not add a burst on top of the others' rate).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

export LOCAL_DIR="${LOCAL_DIR:-$ROOT/.local-bench}"
# The Makefile exports EMULATOR_PORT/LAMBDA_PORT=5000/9000 (the dev stack): the bench takes
# BENCH_EMULATOR_PORT / BENCH_LAMBDA_PORT, else EMULATOR_PORT / LAMBDA_PORT unless they are
# the dev defaults, else 5100 / 9100.
pick() { local v="$1" dev="$2" def="$3"; [[ -n "$v" && "$v" != "$dev" ]] && echo "$v" || echo "$def"; }
export EMULATOR_PORT="${BENCH_EMULATOR_PORT:-$(pick "${EMULATOR_PORT:-}" 5000 5100)}"
export LAMBDA_PORT="${BENCH_LAMBDA_PORT:-$(pick "${LAMBDA_PORT:-}" 9000 9100)}"
export N="${N:-2000}" R="${R:-10}" JOB_SECONDS="${JOB_SECONDS:-5}" THROTTLE_FRACTION="${THROTTLE_FRACTION:-0}"
export GRANULARITY="${GRANULARITY:-SERVICE_LEVEL}" PEER="${PEER:-1}"
export MAX_CONCURRENCY="${MAX_CONCURRENCY:-4}" BATCH_SIZE="${BATCH_SIZE:-50}" LAMBDA_CONCURRENCY="${LAMBDA_CONCURRENCY:-4}"
export IAM_REQUESTS_PER_SECOND="${IAM_REQUESTS_PER_SECOND:-$(python3 -c "print(round($R / $MAX_CONCURRENCY, 3))")}"
export IAM_BURST="${IAM_BURST:-1}"
export AWS_LAMBDA_LOG_LEVEL="${AWS_LAMBDA_LOG_LEVEL:-warn}"
PY="$ROOT/.venv/bin/python"

if [[ "$LOCAL_DIR" == "$ROOT/.local" ]]; then
  echo "bench: refusing LOCAL_DIR=.local (the dev stack's state)" >&2; exit 2
fi
[[ -x "$PY" ]] || { echo "bench: $PY missing; run make setup" >&2; exit 2; }

if [[ "$PEER" != "0" && ! -x "$ROOT/.venv-c7n/bin/custodian" ]]; then
  echo "bench: creating .venv-c7n (Cloud Custodian)"
  python3 -m venv "$ROOT/.venv-c7n"
  "$ROOT/.venv-c7n/bin/pip" install --quiet --disable-pip-version-check -r tests/local/requirements-bench.txt
fi

down() { "$PY" tests/local/stack.py down >/dev/null 2>&1 || true; }
trap down EXIT INT TERM

echo "bench: N=$N R=$R JOB_SECONDS=$JOB_SECONDS THROTTLE_FRACTION=$THROTTLE_FRACTION GRANULARITY=$GRANULARITY" \
     "stack $LOCAL_DIR ports $EMULATOR_PORT/$LAMBDA_PORT"
"$PY" tests/local/stack.py up >"$LOCAL_DIR.up.log" 2>&1 || { mkdir -p "$LOCAL_DIR"; cat "$LOCAL_DIR.up.log" >&2; exit 1; }

status=0
"$PY" tests/local/bench.py || status=$?
exit $status
