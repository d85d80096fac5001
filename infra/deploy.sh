#!/usr/bin/env bash
# iam-last-accessed @VERSION@: deploy this bundle with the AWS CLI alone (no Rust, no SAM CLI).
# infra/package.py copies this file into dist/iam-last-accessed-<version>.zip and fills in the
# version and the stack's parameters; it runs from the unpacked bundle, next to template.json.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")" && pwd)"
version="@VERSION@"

usage() {
  cat <<'EOF'
Usage: ./deploy.sh --bucket BUCKET [options] [-- Parameter=Value ...]

Uploads artifacts/ (the five functions' code and the state machine's definition) to
s3://BUCKET/PREFIX/ and creates or updates the CloudFormation stack from template.json
with `aws cloudformation deploy`. Needs bash and the AWS CLI (v1 or v2), with credentials
that may create the stack's resources (IAM roles among them).

Options:
  --bucket BUCKET      an existing bucket of yours, in the stack's Region (required); it
                       also receives the template, which is over CloudFormation's inline limit
  --prefix PREFIX      key prefix of the artifacts (default iam-last-accessed/VERSION)
  --stack-name NAME    the stack (default iam-last-accessed)
  --region REGION      the stack's Region (default: the AWS CLI's)
  --profile PROFILE    an AWS CLI profile
  --no-execute         create the change set only, to review it in the console
  -h, --help           this text

Parameter=Value pairs after -- set the stack's parameters (an update keeps the values
of those not given); e.g. -- ScheduleExpression='cron(0 5 ? * MON *)' AlarmEmail=me@example.com

The stack's parameters:
@PARAMETERS@

The member-account role for an Organization scan is member-role.yaml (deploy it with
StackSets to the member accounts; its ScannerName must be this stack's, default
iam-last-accessed). More: DEPLOY.md.
EOF
}

die() {
  echo "deploy.sh: $*" >&2
  exit 2
}

bucket=""
prefix="iam-last-accessed/$version"
stack="iam-last-accessed"
region=""
execute=()
profile=()
while (($#)); do
  case "$1" in
    --bucket | --prefix | --stack-name | --region | --profile)
      (($# >= 2)) && [[ -n "$2" ]] || die "$1 needs a value (see --help)"
      case "$1" in
        --bucket) bucket="$2" ;;
        --prefix) prefix="${2#/}" && prefix="${prefix%/}" ;;
        --stack-name) stack="$2" ;;
        --region) region="$2" ;;
        --profile) profile=(--profile "$2") ;;
      esac
      shift 2
      ;;
    --no-execute) execute=(--no-execute-changeset) && shift ;;
    -h | --help) usage && exit 0 ;;
    --) shift && break ;;
    *) die "unknown argument $1 (parameters go after --; see --help)" ;;
  esac
done
# (Empty arrays are expanded as ${a[@]+"${a[@]}"}: macOS's bash 3.2 calls "${a[@]}" unbound.)
overrides=("$@")

[[ -n "$bucket" ]] || die "--bucket is required: an S3 bucket of yours in the stack's Region (see --help)"
[[ -n "$prefix" ]] || die "--prefix must not be empty"
for pair in ${overrides[@]+"${overrides[@]}"}; do
  [[ "$pair" == [A-Za-z]*=* ]] || die "parameter override '$pair' is not Name=Value"
  case "${pair%%=*}" in
    ArtifactBucket | ArtifactPrefix) die "${pair%%=*} is set by deploy.sh (use --bucket / --prefix)" ;;
  esac
done
[[ -f "$here/template.json" && -d "$here/artifacts" ]] ||
  die "no template.json and artifacts/ next to $0: run it from the unpacked bundle"
command -v aws >/dev/null || die "the AWS CLI (aws) is not on PATH: https://docs.aws.amazon.com/cli/"

# One Region for every call, the one checked below: --region, else the AWS CLI's own choice.
if [[ -z "$region" ]]; then
  region="${AWS_REGION:-${AWS_DEFAULT_REGION:-$(aws ${profile[@]+"${profile[@]}"} configure get region || true)}}"
fi
[[ -n "$region" ]] || die "no Region: pass --region or configure one (aws configure)"
aws_() { aws ${profile[@]+"${profile[@]}"} --region "$region" "$@"; }

# Lambda reads code only from a bucket in the function's Region: check it before uploading.
location="$(aws_ s3api get-bucket-location --bucket "$bucket" --query LocationConstraint --output text)" ||
  die "cannot read bucket $bucket (does it exist, and may these credentials use it?)"
case "$location" in
  None | null | "") location=us-east-1 ;;
  EU) location=eu-west-1 ;;
esac
[[ "$location" == "$region" ]] || die "bucket $bucket is in $location, the stack would be in $region: use a bucket in $region"

echo "uploading artifacts to s3://$bucket/$prefix/"
for artifact in "$here"/artifacts/*; do
  aws_ s3 cp --only-show-errors "$artifact" "s3://$bucket/$prefix/$(basename "$artifact")"
done

echo "deploying stack $stack ($version) in $region"
aws_ cloudformation deploy \
  --template-file "$here/template.json" \
  --stack-name "$stack" \
  --s3-bucket "$bucket" --s3-prefix "$prefix" \
  --capabilities CAPABILITY_IAM CAPABILITY_NAMED_IAM CAPABILITY_AUTO_EXPAND \
  --no-fail-on-empty-changeset \
  ${execute[@]+"${execute[@]}"} \
  --parameter-overrides "ArtifactBucket=$bucket" "ArtifactPrefix=$prefix" ${overrides[@]+"${overrides[@]}"}

if ((${#execute[@]} == 0)); then
  aws_ cloudformation describe-stacks --stack-name "$stack" --query 'Stacks[0].Outputs' --output table
fi
