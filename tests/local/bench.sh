#!/usr/bin/env bash
# make bench: the local stack up, N principals seeded, ONE full scan measured, Cloud
# Custodian's usage filter as the peer, the stack down (always). The figures are the last
# lines, `name: value`. Exit non-zero if the run failed or reports_written != principals.
#
#   N=2000 R=10 JOB_SECONDS=5 THROTTLE_FRACTION=0 GRANULARITY=SERVICE_LEVEL bash tests/local/bench.sh
#   PEER=0 skips Cloud Custodian. MAX_CONCURRENCY / BATCH_SIZE / LAMBDA_CONCURRENCY go to the stack;
#   IAM_REQUESTS_PER_SECOND defaults to R / MAX_CONCURRENCY (the batches in flight share R),
#   IAM_BURST to 1 (each new invocation must not add a burst on top of the others' rate).
#
#   ACCOUNTS=10 N=2000 R=2 bash tests/local/bench.sh: an Organization of 10 member accounts
#   (N/10 principals each, the member role in each), R per account, all scanned side by side.
#   MAX_CONCURRENCY and IAM_REQUESTS_PER_SECOND then pace each account (the run's
#   max_concurrency is per account), so R / MAX_CONCURRENCY stays right. MAX_CONCURRENCY
#   defaults to R - 1 there (at least 1, at most 4, the single account's default): an
#   account's batches start together and their pacers stay in step, so MAX_CONCURRENCY
#   calls reach IAM at the same instant; the emulated bucket holds R (the burst), and it
#   needs a token to spare for the calls that arrive a little early. IAM_REQUESTS_PER_SECOND
#   defaults to 0.9 x R / MAX_CONCURRENCY there: paced at exactly R, a bucket of R tokens
#   empties on the first early call, and the SDK's retry of each throttled call (not
#   paced) keeps it empty. Measured with ACCOUNTS=10 N=2000 R=2: 4 batches x 0.5/s had 44 %
#   of the calls throttled, 2 x 1/s 31 %, 1 x 2/s 17 %, 1 x 1.8/s 0.5 %.
#   LAMBDA_CONCURRENCY defaults to ACCOUNTS x MAX_CONCURRENCY (every account's batches in
#   flight need a process of each function, as Lambda would scale out); Cloud Custodian is
#   skipped (it scans one account).
#
#   INCREMENTAL=1 CHURN=0.1 bash tests/local/bench.sh: after the full scan (its figures as
#   above), CHURN x the seeded principals change (most a new use, the rest a new policy),
#   then an incremental scan and a full scan run, and the two are compared principal by
#   principal; figures incremental_iam_calls_per_principal, incremental_wall_s, carried,
#   scanned, sampled, incremental_matches_full (tests/local/bench_incremental.py says how).
#   The bench then also fails when either run fails or they differ. One account only.
#   INCREMENTAL_RUN_INPUT (JSON) is merged into the incremental run's input alone.
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
export ACCOUNTS="${ACCOUNTS:-1}"
[[ "$ACCOUNTS" =~ ^[1-9][0-9]*$ ]] || { echo "bench: ACCOUNTS must be a whole number >= 1 (got '$ACCOUNTS')" >&2; exit 2; }
export CHURN="${CHURN:-0.1}"
case "${INCREMENTAL:-0}" in 0|false|no|"") export INCREMENTAL=0 ;; *) export INCREMENTAL=1 ;; esac
if [[ "$INCREMENTAL" != "0" ]]; then
  [[ $ACCOUNTS -eq 1 ]] || { echo "bench: INCREMENTAL=1 runs on one account (got ACCOUNTS=$ACCOUNTS)" >&2; exit 2; }
  python3 -c "import sys; c = float(sys.argv[1]); sys.exit(0 if 0 <= c <= 1 else 1)" "$CHURN" 2>/dev/null \
    || { echo "bench: CHURN must be a share of the principals, 0 to 1 (got '$CHURN')" >&2; exit 2; }
fi
export GRANULARITY="${GRANULARITY:-SERVICE_LEVEL}" PEER="${PEER:-$([[ $ACCOUNTS -gt 1 ]] && echo 0 || echo 1)}"
if [[ $ACCOUNTS -gt 1 ]]; then
  export MAX_CONCURRENCY="${MAX_CONCURRENCY:-$(python3 -c "print(max(1, min(4, int($R) - 1)))")}"
else
  export MAX_CONCURRENCY="${MAX_CONCURRENCY:-4}"
fi
export BATCH_SIZE="${BATCH_SIZE:-50}"
# The stack's MaxAccountsInParallel is the run's ceiling: every member account side by side.
export MAX_ACCOUNTS_IN_PARALLEL="${MAX_ACCOUNTS_IN_PARALLEL:-$((ACCOUNTS > 20 ? ACCOUNTS : 20))}"
export LAMBDA_CONCURRENCY="${LAMBDA_CONCURRENCY:-$((ACCOUNTS > 1 ? ACCOUNTS * MAX_CONCURRENCY : 4))}"
if [[ $ACCOUNTS -gt 1 ]]; then
  export IAM_REQUESTS_PER_SECOND="${IAM_REQUESTS_PER_SECOND:-$(python3 -c "print(round(0.9 * $R / $MAX_CONCURRENCY, 3))")}"
else
  export IAM_REQUESTS_PER_SECOND="${IAM_REQUESTS_PER_SECOND:-$(python3 -c "print(round($R / $MAX_CONCURRENCY, 3))")}"
fi
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
     "$([[ $ACCOUNTS -gt 1 ]] && echo "ACCOUNTS=$ACCOUNTS (R per account) ")$([[ $INCREMENTAL != 0 ]] && echo "INCREMENTAL=1 CHURN=$CHURN ")stack $LOCAL_DIR ports $EMULATOR_PORT/$LAMBDA_PORT"
"$PY" tests/local/stack.py up >"$LOCAL_DIR.up.log" 2>&1 || { mkdir -p "$LOCAL_DIR"; cat "$LOCAL_DIR.up.log" >&2; exit 1; }

status=0
"$PY" tests/local/bench.py || status=$?
exit $status
