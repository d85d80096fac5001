#!/usr/bin/env python3
"""Seed a realistic IAM account into the local emulator (moto + access advisor).

    python tests/local/seed.py N            # uses $AWS_ENDPOINT_URL (or $EMULATOR_URL)
    from seed import seed; truth = seed(endpoint, n=2000)
    from seed import member_account          # an Organization's member account (below)
    m = member_account(endpoint, "bench-01"); seed(endpoint, 200, account=m.id, credentials=m.credentials)

N principals are split like an account at its IAM quotas (15,500 = 5,000 roles,
5,000 users, 500 groups, 5,000 customer-managed policies), scaled proportionally.
Each managed policy grants a few services (some with `svc:*`, some whole-account
`*`), roles and users get 1-2 managed policies and sometimes an inline one, most
users are in a group, and users/roles get activity spread over the last 400 days
for some of the services they are granted (posted to the emulator's activity
endpoint in batches). IAM calls go through boto3 with a thread pool (moto's server
is threaded); the seed is deterministic for a given N and SEED.

Seeding must happen before any throttle is configured: every IAM call counts.

`seed(..., account=ID, credentials={...})` seeds another account (e.g. a member account of
the local Organization) with those credentials; the default is the local account
123456789012 with the administrator's key. `member_account()` makes a member account as
AWS Organizations does (CreateAccount, optionally moved under an OU), signs in through the
OrganizationAccountAccessRole CreateAccount left there, and deploys the scanner's member
role into it from infra/member-role.yaml with CloudFormation (ScannerAccountId =
123456789012, the local stack's account), as a StackSet would; `member_role=False` leaves
the account without it (a scan finds it UNREACHABLE).
"""
from __future__ import annotations

import json
import os
import random
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from botocore.parsers import ResponseParserError

ACCOUNT = "123456789012"
ADMIN = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
HERE = os.path.dirname(os.path.abspath(__file__))
MEMBER_ROLE_TEMPLATE = os.path.join(HERE, "..", "..", "infra", "member-role.yaml")
MEMBER_ROLE_STACK = "iam-last-accessed-member"
# The account-maximum mix (IAM default quotas): roles, users, groups, policies.
MAX_MIX = {"role": 5000, "user": 5000, "group": 500, "policy": 5000}
MAX_TOTAL = sum(MAX_MIX.values())  # 15,500

# (namespace, typical actions); the first 12 are the emulator's action-tracked ones.
SERVICES = [
    ("s3", ["GetObject", "PutObject", "ListBucket", "DeleteObject"]),
    ("ec2", ["DescribeInstances", "RunInstances", "StopInstances", "DescribeVpcs"]),
    ("dynamodb", ["GetItem", "PutItem", "Query", "Scan"]),
    ("lambda", ["InvokeFunction", "GetFunction", "ListFunctions"]),
    ("logs", ["CreateLogStream", "PutLogEvents", "GetLogEvents"]),
    ("sqs", ["SendMessage", "ReceiveMessage", "DeleteMessage"]),
    ("sns", ["Publish", "ListTopics"]),
    ("kms", ["Decrypt", "Encrypt", "GenerateDataKey"]),
    ("iam", ["GetRole", "ListRoles", "PassRole"]),
    ("sts", ["AssumeRole", "GetCallerIdentity"]),
    ("secretsmanager", ["GetSecretValue", "DescribeSecret"]),
    ("cloudformation", ["DescribeStacks", "CreateStack"]),
    ("cloudwatch", ["PutMetricData", "GetMetricData"]),
    ("rds", ["DescribeDBInstances", "CreateDBSnapshot"]),
    ("ecr", ["GetAuthorizationToken", "BatchGetImage"]),
    ("ecs", ["RunTask", "DescribeServices"]),
    ("ssm", ["GetParameter", "GetParameters"]),
    ("kinesis", ["PutRecord", "GetRecords"]),
    ("athena", ["StartQueryExecution", "GetQueryResults"]),
    ("glue", ["GetTable", "GetDatabase"]),
    ("states", ["StartExecution", "DescribeExecution"]),
    ("events", ["PutEvents", "PutRule"]),
    ("elasticloadbalancing", ["DescribeLoadBalancers"]),
    ("autoscaling", ["DescribeAutoScalingGroups"]),
    ("route53", ["ChangeResourceRecordSets", "ListHostedZones"]),
    ("cloudfront", ["CreateInvalidation"]),
    ("apigateway", ["GET", "POST"]),
    ("es", ["ESHttpGet", "ESHttpPost"]),
    ("elasticache", ["DescribeCacheClusters"]),
    ("sagemaker", ["InvokeEndpoint", "CreateTrainingJob"]),
    ("firehose", ["PutRecordBatch"]),
    ("codebuild", ["StartBuild"]),
    ("codecommit", ["GitPull"]),
    ("cognito-idp", ["AdminGetUser"]),
    ("xray", ["PutTraceSegments"]),
    ("ses", ["SendEmail"]),
    ("acm", ["DescribeCertificate"]),
    ("redshift", ["DescribeClusters"]),
    ("batch", ["SubmitJob"]),
    ("organizations", ["DescribeOrganization"]),
]
REGIONS = ["us-east-1", "us-east-1", "us-east-1", "eu-west-1", "us-west-2", "ap-southeast-2"]
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def mix(n: int) -> dict[str, int]:
    """How many of each type for N principals (largest remainder, proportional to the max)."""
    raw = {k: n * v / MAX_TOTAL for k, v in MAX_MIX.items()}
    counts = {k: int(v) for k, v in raw.items()}
    for k in sorted(raw, key=lambda k: raw[k] - counts[k], reverse=True)[: n - sum(counts.values())]:
        counts[k] += 1
    return counts


@dataclass
class Truth:
    """What was seeded (for checks and for the human lines)."""
    counts: dict = field(default_factory=dict)
    arns: list = field(default_factory=list)
    iam_calls: int = 0
    activity_records: int = 0
    seconds: float = 0.0
    # The structure (what a later change of the truth needs, e.g. the incremental bench's
    # churn): the namespaces each principal is granted (['*'] in it = every service),
    # each managed policy's document, each group's member users and each managed
    # policy's entities (users, roles and groups it is attached to), all by ARN.
    granted: dict = field(default_factory=dict)
    documents: dict = field(default_factory=dict)
    members: dict = field(default_factory=dict)
    attached: dict = field(default_factory=dict)


def policy_document(rng: random.Random, admin_share: float = 0.03) -> tuple[dict, list[str]]:
    """A document granting a few services; returns (document, namespaces granted; ['*'] = all)."""
    if rng.random() < admin_share:
        return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}, ["*"]
    chosen = rng.sample(SERVICES, rng.randint(2, 5))
    statements, granted = [], []
    for ns, actions in chosen:
        granted.append(ns)
        r = rng.random()
        if r < 0.25:
            action = f"{ns}:*"
        elif r < 0.45:
            action = [f"{ns}:{a}" for a in actions]
        elif r < 0.6:
            action = f"{ns}:Get*"
        else:
            action = [f"{ns}:{a}" for a in rng.sample(actions, rng.randint(1, len(actions)))]
        statements.append({"Effect": "Allow", "Action": action, "Resource": "*"})
    if rng.random() < 0.1:  # a Deny the emulator (like access advisor) ignores for "granted"
        statements.append({"Effect": "Deny", "Action": f"{chosen[0][0]}:Delete*", "Resource": "*"})
    return {"Version": "2012-10-17", "Statement": statements}, granted


def _post(url: str, body) -> dict:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=300) as resp:
        return json.loads(resp.read() or b"null")


@dataclass
class Member:
    """A member account of the local Organization, and an administrator's session in it."""
    id: str
    name: str
    credentials: dict
    member_role: bool


def member_account(endpoint: str, name: str, *, parent: str | None = None, member_role: bool = True,
                   scanner_account: str = ACCOUNT) -> Member:
    """CreateAccount (as the management account's administrator), MoveAccount under `parent`
    (an OU id; default: the root), a session of its OrganizationAccountAccessRole, and, with
    member_role, the member role's CloudFormation stack from infra/member-role.yaml."""
    import boto3

    kw = dict(endpoint_url=endpoint, region_name="us-east-1")
    orgs = boto3.client("organizations", **kw, **ADMIN)
    status = orgs.create_account(AccountName=name, Email=f"{name}@example.com")["CreateAccountStatus"]
    account = orgs.describe_create_account_status(CreateAccountRequestId=status["Id"])["CreateAccountStatus"]["AccountId"]
    if parent:
        root = orgs.list_roots()["Roots"][0]["Id"]
        if parent != root:
            orgs.move_account(AccountId=account, SourceParentId=root, DestinationParentId=parent)
    creds = boto3.client("sts", **kw, **ADMIN).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole", RoleSessionName="seed",
        DurationSeconds=3600)["Credentials"]
    credentials = {"aws_access_key_id": creds["AccessKeyId"], "aws_secret_access_key": creds["SecretAccessKey"],
                   "aws_session_token": creds["SessionToken"]}
    if member_role:
        cfn = boto3.client("cloudformation", **kw, **credentials)
        with open(MEMBER_ROLE_TEMPLATE) as f:
            cfn.create_stack(StackName=MEMBER_ROLE_STACK, TemplateBody=f.read(),
                             Parameters=[{"ParameterKey": "ScannerAccountId", "ParameterValue": scanner_account}],
                             Capabilities=["CAPABILITY_NAMED_IAM"])
        from stack import settled  # tests/local/stack.py, beside this file

        stack = settled(cfn, MEMBER_ROLE_STACK, seconds=120, poll=0.2)
        if stack["StackStatus"] != "CREATE_COMPLETE":
            raise SystemExit(f"member role stack in {account} ({name}) ended {stack['StackStatus']}")
    return Member(id=account, name=name, credentials=credentials, member_role=member_role)


def seed(endpoint: str, n: int = 2000, *, threads: int = 8, seed_value: int = 42, prefix: str = "bench",
         activity_batch: int = 5000, now: datetime | None = None, log=print, account: str = ACCOUNT,
         credentials: dict | None = None) -> Truth:
    import boto3
    from botocore.config import Config

    started = time.time()
    rng = random.Random(seed_value)
    now = now or datetime.now(timezone.utc)
    counts = mix(n)
    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1", **(credentials or ADMIN),
                       config=Config(max_pool_connections=threads * 2, retries={"max_attempts": 10, "mode": "standard"}))
    calls = [0]

    def call(fn, **kw):
        # moto's IAM backend is not thread-safe: a concurrent CreateRole can fail with
        # "dictionary changed size during iteration" (an HTML 500). Such a call created
        # nothing, so it is retried; EntityAlreadyExists on a retry means it had.
        for attempt in range(6):
            try:
                return fn(**kw)
            except ResponseParserError:
                time.sleep(0.05 * (attempt + 1))
            except iam.exceptions.EntityAlreadyExistsException:
                if attempt == 0:
                    raise
                return None
        return fn(**kw)

    def run(tasks):
        """Runs (callable, kwargs) tasks on the pool, in order of the list; raises the first error."""
        with ThreadPoolExecutor(threads) as pool:
            for fut in [pool.submit(call, fn, **kw) for fn, kw in tasks]:
                fut.result()
        calls[0] += len(tasks)

    # 1. Customer-managed policies.
    policies = []  # (arn, granted namespaces)
    documents, members_of, attached_to = {}, {}, {}  # policy ARN -> doc; group ARN -> users; policy ARN -> entities
    tasks = []
    for i in range(counts["policy"]):
        doc, granted = policy_document(rng)
        name = f"{prefix}-policy-{i:05d}"
        path = rng.choice(["/", "/", "/app/", "/team/"])
        tasks.append((iam.create_policy, dict(PolicyName=name, Path=path, PolicyDocument=json.dumps(doc))))
        policies.append((f"arn:aws:iam::{account}:policy{path}{name}", granted))
        documents[policies[-1][0]] = doc
    run(tasks)
    # 2. Groups with 1-2 managed policies.
    groups, tasks, attach = [], [], []
    for i in range(counts["group"]):
        name = f"{prefix}-group-{i:04d}"
        tasks.append((iam.create_group, dict(GroupName=name)))
        picked = rng.sample(policies, min(len(policies), rng.randint(1, 2))) if policies else []
        attach += [(iam.attach_group_policy, dict(GroupName=name, PolicyArn=p[0])) for p in picked]
        groups.append((name, sum((p[1] for p in picked), [])))
        for p in picked:
            attached_to.setdefault(p[0], []).append(f"arn:aws:iam::{account}:group/{name}")
    run(tasks)
    # 3. Roles and users with managed (1-2) and sometimes inline policies.
    granted_of = {}  # entity ARN -> namespaces
    tasks, inline, members = [], [], []
    for kind in ("role", "user"):
        for i in range(counts[kind]):
            name = f"{prefix}-{kind}-{i:05d}"
            path = rng.choice(["/", "/", "/service/", "/team/"])
            arn = f"arn:aws:iam::{account}:{kind}{path}{name}"
            granted = []
            if kind == "role":
                tasks.append((iam.create_role, dict(RoleName=name, Path=path, AssumeRolePolicyDocument=TRUST)))
            else:
                tasks.append((iam.create_user, dict(UserName=name, Path=path)))
            n_managed = rng.choice([0, 1, 1, 2]) if kind == "user" else rng.choice([1, 1, 2])
            for p in (rng.sample(policies, min(len(policies), n_managed)) if policies else []):
                fn = iam.attach_role_policy if kind == "role" else iam.attach_user_policy
                attach.append((fn, {("RoleName" if kind == "role" else "UserName"): name, "PolicyArn": p[0]}))
                granted += p[1]
                attached_to.setdefault(p[0], []).append(arn)
            if rng.random() < (0.3 if kind == "role" else 0.2) or not granted:
                doc, g = policy_document(rng, admin_share=0.01)
                fn = iam.put_role_policy if kind == "role" else iam.put_user_policy
                inline.append((fn, {("RoleName" if kind == "role" else "UserName"): name, "PolicyName": "inline", "PolicyDocument": json.dumps(doc)}))
                granted += g
            if kind == "user" and groups and rng.random() < 0.6:
                g = rng.choice(groups)
                members.append((iam.add_user_to_group, dict(GroupName=g[0], UserName=name)))
                granted += g[1]
                members_of.setdefault(f"arn:aws:iam::{account}:group/{g[0]}", []).append(arn)
            granted_of[arn] = granted
    run(tasks)
    run(attach + inline + members)
    # 4. Activity: most users/roles used some of their services, spread over 400 days.
    records = []
    all_ns = [s[0] for s in SERVICES]
    actions_of = dict(SERVICES)
    for arn, granted in granted_of.items():
        if rng.random() < 0.15:
            continue  # never used anything
        pool = all_ns if "*" in granted else sorted(set(granted))
        if not pool:
            continue
        for ns in rng.sample(pool, min(len(pool), rng.randint(1, 3))):
            for _ in range(rng.randint(1, 2)):
                at = now - timedelta(seconds=rng.uniform(60, 400 * 86400))
                records.append({"entity": arn, "service": ns, "action": rng.choice(actions_of[ns]),
                                "region": rng.choice(REGIONS), "at": at.strftime("%Y-%m-%dT%H:%M:%SZ")})
    url = endpoint.rstrip("/") + "/moto-api/iam-access-advisor/activity"
    for i in range(0, len(records), activity_batch):
        _post(url, records[i:i + activity_batch])
    truth = Truth(counts=counts, iam_calls=calls[0], activity_records=len(records), seconds=time.time() - started)
    truth.arns = [p[0] for p in policies] + [f"arn:aws:iam::{account}:group/{g[0]}" for g in groups] + list(granted_of)
    truth.granted = {**{p[0]: list(p[1]) for p in policies}, **{f"arn:aws:iam::{account}:group/{g[0]}": list(g[1]) for g in groups},
                     **{arn: list(g) for arn, g in granted_of.items()}}
    truth.documents, truth.members, truth.attached = documents, members_of, attached_to
    log(f"seeded {n} principals {counts} with {truth.iam_calls} IAM calls and {truth.activity_records} activity records in {truth.seconds:.1f}s")
    return truth


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else int(os.environ.get("N", "2000"))
    endpoint = os.environ.get("AWS_ENDPOINT_URL") or os.environ.get("EMULATOR_URL") or "http://127.0.0.1:5100"
    seed(endpoint, n, threads=int(os.environ.get("SEED_THREADS", "8")), seed_value=int(os.environ.get("SEED", "42")))
