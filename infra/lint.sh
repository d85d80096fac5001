#!/usr/bin/env bash
# Lints the SAM stack, the member-account role template (infra/member-role.yaml, for
# StackSets) and the state machine definition, offline and without AWS credentials:
#   cfn-lint, sam validate --lint, checkov, asl-validator.
# Expects the tools installed (make setup):
#   python3 -m venv .venv-sam && .venv-sam/bin/pip install -r infra/requirements-sam.txt
#   python3 -m venv .venv-checkov && .venv-checkov/bin/pip install -r infra/requirements-checkov.txt
#   npm ci --prefix infra
# Prints one line per check; exits non-zero if any check fails (output of failures follows).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

template=infra/template.yaml
member=infra/member-role.yaml
asl=statemachine/last-accessed.asl.json

# sam and cfn-lint want a region; nothing here talks to AWS or needs credentials.
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
export AWS_REGION="${AWS_REGION:-$AWS_DEFAULT_REGION}"
export SAM_CLI_TELEMETRY=0
export SAM_CLI_UPDATE_CHECK=0

failed=0
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

check() {
  local name="$1"
  shift
  if "$@" >"$log" 2>&1; then
    echo "ok   $name"
  else
    echo "FAIL $name"
    sed 's/^/     /' "$log"
    failed=1
  fi
}

need() {
  if [[ ! -x "$1" ]]; then
    echo "missing $1 - run make setup (see the top of infra/lint.sh)" >&2
    exit 2
  fi
}
need .venv-sam/bin/cfn-lint
need .venv-sam/bin/sam
need .venv-checkov/bin/checkov
need infra/node_modules/.bin/asl-validator

check "cfn-lint $template" .venv-sam/bin/cfn-lint -- "$template"
check "sam validate --lint $template" .venv-sam/bin/sam validate --lint --template "$template"
check "checkov $template" .venv-checkov/bin/checkov --config-file infra/.checkov.yaml -f "$template"
# The member role is plain CloudFormation (no SAM transform, so no sam validate). Checkov runs
# without infra/.checkov.yaml: that file's skips are for the scanner stack's Lambda, S3 and
# SQS resources, and none applies to (or is needed by) this template's one IAM role.
check "cfn-lint $member" .venv-sam/bin/cfn-lint -- "$member"
check "checkov $member" .venv-checkov/bin/checkov --framework cloudformation --compact --quiet --skip-download -f "$member"
# The ASL as deployed: DefinitionSubstitutions filled in (the raw file's "arn:${Partition}:…"
# is not an ARN until CloudFormation substitutes it). Every placeholder must be filled.
deployed_asl="$(mktemp --suffix=.json)"
trap 'rm -f "$log" "$deployed_asl"' EXIT
sed -e 's/\${Partition}/aws/g' \
    -e 's/\${\([A-Za-z]*\)FunctionArn}/arn:aws:lambda:us-east-1:123456789012:function:\1/g' \
    "$asl" >"$deployed_asl"
check "asl placeholders filled" bash -c "! grep -n '\\\${' '$deployed_asl'"
check "asl-validator $asl" infra/node_modules/.bin/asl-validator --json-path "$deployed_asl"

exit "$failed"
