#!/usr/bin/env python3
"""The demo's Organization and its output.

    demo.py seed               # the management account and three member accounts, 400 days of activity
    demo.py input FILE         # the run input: examples/demo.json over the whole Organization
    demo.py copy RUN_ID DIR    # copy the run's reports and summary to DIR, print a table
    demo.py verdict RUN_ID     # say what the run found per account; exit 0 when the one
                               # account left without the member role is the only one not scanned

The local account 123456789012 is the Organization's management account (`stack.py up`
creates the Organization) and holds the scanner stack; it is read through the stack's own
reader role. `seed` gives it the demo's realistic account (roles of six teams, groups of
users, shared policies, a forgotten admin role) and makes three member accounts as AWS
Organizations does (CreateAccount, under a small OU tree), each seeded with principals and
activity of its own through its OrganizationAccountAccessRole:

    payments-prod   workloads/prod   member role deployed (infra/member-role.yaml)
    analytics       workloads        member role deployed
    sandbox         sandbox          NO member role: the scan reports it UNREACHABLE

Everything the demo creates is under the IAM path /demo/, and the run discovers only that
path, so the scanner stack's own roles (under /iam-last-accessed/) stay out of the tables.
What was made is written to $LOCAL_DIR/demo-org.json for `verdict`.
"""
import datetime as dt
import json
import os
import random
import sys
import urllib.request

import boto3

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import seed as seeding  # noqa: E402

ACCOUNT = "123456789012"
MEMBER_ROLE = "iam-last-accessed-member"
TEAMS = ["payments", "search", "platform", "data", "mobile", "growth"]
ROLE_KINDS = {  # role kind → the services its policy grants
    "api": ["s3", "dynamodb", "sqs", "sns", "kms", "logs", "xray", "secretsmanager"],
    "worker": ["sqs", "s3", "dynamodb", "lambda", "logs", "cloudwatch", "ec2"],
    "etl": ["glue", "athena", "s3", "lakeformation", "redshift", "kms", "logs"],
    "deploy": ["cloudformation", "iam", "lambda", "ecs", "ecr", "s3", "ssm", "codedeploy"],
}
GROUPS = {"developers": ["s3", "logs", "cloudwatch", "lambda", "dynamodb"], "analysts": ["athena", "glue", "s3", "quicksight"],
          "admins": ["iam", "organizations", "ec2", "s3"]}
REGIONS = ["us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-2"]
# The management account: the demo's account as it always was.
MANAGEMENT = {"teams": TEAMS, "kinds": list(ROLE_KINDS), "groups": GROUPS, "users": 5, "admin": True,
              "shared": {"observability": ["logs", "cloudwatch", "xray"], "read-config": ["ssm", "secretsmanager", "kms"],
                         "legacy-admin": ["*"]}}
MEMBERS = [
    {"name": "payments-prod", "ou": ["workloads", "prod"], "member_role": True, "seed": 1,
     "teams": ["payments", "checkout"], "kinds": ["api", "worker", "deploy"], "users": 2, "admin": True,
     "groups": {"responders": ["logs", "cloudwatch", "ec2", "ssm", "rds"]},
     "shared": {"observability": ["logs", "cloudwatch", "xray"], "legacy-admin": ["*"]}},
    {"name": "analytics", "ou": ["workloads"], "member_role": True, "seed": 2,
     "teams": ["data", "search"], "kinds": ["etl", "worker"], "users": 3, "admin": False,
     "groups": {"analysts": ["athena", "glue", "s3", "quicksight"]},
     "shared": {"read-config": ["ssm", "secretsmanager", "kms"]}},
    {"name": "sandbox", "ou": ["sandbox"], "member_role": False, "seed": 3,
     "teams": ["growth"], "kinds": ["api", "worker"], "users": 2, "admin": True,
     "groups": {"developers": ["s3", "logs", "cloudwatch", "lambda", "dynamodb"]}, "shared": {"legacy-admin": ["*"]}},
]


def local_dir():
    return os.path.abspath(os.environ.get("LOCAL_DIR") or os.path.join(ROOT, ".local"))


def client(name, credentials=None):
    return boto3.client(name, endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name="us-east-1", **(credentials or {}))


def post(path, body):
    req = urllib.request.Request(os.environ["EMULATOR_URL"] + path, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    return json.loads(urllib.request.urlopen(req).read() or b"null")


def allow(services, actions="*"):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": [f"{s}:{actions}" for s in services], "Resource": "*"}]})


def when(rng, newest, oldest):
    return (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=rng.uniform(newest, oldest))).strftime("%Y-%m-%dT%H:%M:%SZ")


def seed_account(iam, spec, rng):
    """One account's principals (all under /demo/) and activity records. Returns (activity, counts)."""
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    activity, counts = [], {"role": 0, "user": 0, "group": 0, "policy": 0}
    # Customer-managed policies shared by roles.
    policy_arns = {}
    for name, services in spec["shared"].items():
        doc = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}) if services == ["*"] else allow(services)
        policy_arns[name] = iam.create_policy(PolicyName=name, Path="/demo/", PolicyDocument=doc)["Policy"]["Arn"]
        counts["policy"] += 1
    roles = []
    for team in spec["teams"]:
        for kind in spec["kinds"]:
            services = ROLE_KINDS[kind]
            name = f"{team}-{kind}"
            arn = iam.create_role(RoleName=name, Path="/demo/", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
            iam.put_role_policy(RoleName=name, PolicyName=f"{kind}-access", PolicyDocument=allow(services))
            if "observability" in policy_arns:
                iam.attach_role_policy(RoleName=name, PolicyArn=policy_arns["observability"])
            if "read-config" in policy_arns and rng.random() < 0.4:
                iam.attach_role_policy(RoleName=name, PolicyArn=policy_arns["read-config"])
            roles.append((arn, services))
            counts["role"] += 1
    if spec["admin"]:  # one forgotten admin role: granted everything, used almost nothing
        admin = iam.create_role(RoleName="break-glass-admin", Path="/demo/", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
        iam.attach_role_policy(RoleName="break-glass-admin", PolicyArn=policy_arns["legacy-admin"])
        counts["role"] += 1
        activity.append({"entity": admin, "service": "iam", "action": "ListRoles", "region": "us-east-1", "at": when(rng, 300, 390)})
    for arn, services in roles:
        for service in services:
            roll = rng.random()
            if roll < 0.55:  # in active use
                activity.append({"entity": arn, "service": service, "region": rng.choice(REGIONS), "at": when(rng, 0, 30)})
            elif roll < 0.75:  # used once, long ago
                activity.append({"entity": arn, "service": service, "region": rng.choice(REGIONS), "at": when(rng, 120, 399)})
        if "s3" in services:
            activity.append({"entity": arn, "service": "s3", "action": "GetObject", "region": "us-east-1", "at": when(rng, 0, 10)})
    for group, services in spec["groups"].items():
        iam.create_group(GroupName=group, Path="/demo/")
        iam.put_group_policy(GroupName=group, PolicyName=f"{group}-access", PolicyDocument=allow(services))
        counts["group"] += 1
        for i in range(1, spec["users"] + 1):
            user = f"{group[:-1]}-{i}"
            arn = iam.create_user(UserName=user, Path="/demo/")["User"]["Arn"]
            iam.add_user_to_group(GroupName=group, UserName=user)
            counts["user"] += 1
            for service in services:
                if rng.random() < 0.5:
                    activity.append({"entity": arn, "service": service, "region": rng.choice(REGIONS), "at": when(rng, 0, 399)})
    return activity, counts


def described(counts, records):
    return (f"{counts['role']} roles, {counts['user']} users, {counts['group']} groups, {counts['policy']} policies, "
            f"{records} activity records")


def seed():
    orgs = client("organizations")
    root = orgs.list_roots()["Roots"][0]["Id"]
    ous = {}

    def ou(path):
        """The OU at this path of names under the root (created once)."""
        parent = root
        for depth in range(len(path)):
            key = tuple(path[:depth + 1])
            if key not in ous:
                ous[key] = orgs.create_organizational_unit(ParentId=parent, Name=path[depth])["OrganizationalUnit"]["Id"]
            parent = ous[key]
        return parent

    activity, made = [], []
    acts, counts = seed_account(client("iam"), MANAGEMENT, random.Random(20261125))
    activity += acts
    print(f"seeded the management account {ACCOUNT} (the scanner's own): {described(counts, len(acts))}")
    made.append({"id": ACCOUNT, "name": "management", "member_role": None})
    for spec in MEMBERS:
        member = seeding.member_account(os.environ["AWS_ENDPOINT_URL"], spec["name"], parent=ou(spec["ou"]),
                                        member_role=spec["member_role"])
        acts, counts = seed_account(client("iam", member.credentials), spec, random.Random(20261125 + spec["seed"]))
        activity += acts
        role = "member role deployed" if spec["member_role"] else "NO member role (on purpose: the scan will find it UNREACHABLE)"
        print(f"seeded member account {member.id} ({spec['name']}, OU {'/'.join(spec['ou'])}, {role}): "
              f"{described(counts, len(acts))}")
        made.append({"id": member.id, "name": spec["name"], "member_role": spec["member_role"]})
    post("/moto-api/iam-access-advisor/activity", activity)
    post("/moto-api/iam-access-advisor/config", {"job_seconds": 2.0})
    os.makedirs(local_dir(), exist_ok=True)
    with open(os.path.join(local_dir(), "demo-org.json"), "w") as f:
        json.dump({"accounts": made}, f, indent=1)
    print(f"{len(activity)} activity records over the last 400 days in {len(made)} accounts")


def write_input(path):
    """examples/demo.json (ACTION_LEVEL, entities, granting policies, the /demo/ path) over every
    ACTIVE account of the Organization, all side by side."""
    with open(os.path.join(ROOT, "examples", "demo.json")) as f:
        run_input = json.load(f)
    run_input["organization"] = {"all": True, "max_accounts_in_parallel": 1 + len(MEMBERS)}
    with open(path, "w") as f:
        json.dump(run_input, f, indent=1)
    print(f"run input: {json.dumps(run_input)}")


def copy(run_id, target):
    s3, bucket = client("s3"), os.environ["REPORT_BUCKET"]
    paginator = s3.get_paginator("list_objects_v2")
    keys = [o["Key"] for page in paginator.paginate(Bucket=bucket, Prefix="reports/")
            for o in page.get("Contents", []) if f"/run={run_id}/" in o["Key"]]
    if not keys:
        sys.exit(f"no reports for run {run_id}")
    names = {}
    try:
        with open(os.path.join(local_dir(), "demo-org.json")) as f:
            names = {a["id"]: a["name"] for a in json.load(f)["accounts"]}
    except OSError:
        pass
    rows = []
    for key in keys:
        path = os.path.join(target, key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        open(path, "wb").write(body)
        if not key.endswith(".json"):
            continue  # the run's page (index.html)
        doc = json.loads(body)
        if "findings" in doc:
            f = doc["findings"]
            account = doc.get("account") or ACCOUNT
            rows.append((names.get(account, account), doc["type"], doc["name"], f["services_granted"], f["services_active"],
                         f["services_stale"], f["services_never_used"], doc["job"]["status"]))
    rows.sort(key=lambda r: (-(r[5] + r[6]), r[0], r[1], r[2]))
    shown = rows[:25]
    print(f"\nthe {len(shown)} principals with the most unused services (of {len(rows)}):")
    print(f"{'account':<14} {'type':<7} {'principal':<22} {'granted':>7} {'active':>6} {'stale':>5} {'never used':>10}  status")
    for r in shown:
        print(f"{r[0]:<14} {r[1]:<7} {r[2]:<22} {r[3]:>7} {r[4]:>6} {r[5]:>5} {r[6]:>10}  {r[7]}")
    print(f"\n{len(rows)} reports copied to {target}/reports/ (plus the run summary, its index and its page:"
          f" open {target}/reports/runs/*/run={run_id}/index.html)")


def verdict(run_id):
    """Exit 0 when every account with the member role SUCCEEDED and the one without it is
    UNREACHABLE for that reason; otherwise say what went wrong and exit 1."""
    with open(os.path.join(local_dir(), "demo-org.json")) as f:
        made = json.load(f)["accounts"]
    s3, bucket = client("s3"), os.environ["REPORT_BUCKET"]
    keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="reports/runs/")
            for o in page.get("Contents", []) if o["Key"].endswith(f"/run={run_id}/summary.json")]
    if len(keys) != 1:
        sys.exit(f"demo: no summary for run {run_id} ({keys})")
    summary = json.loads(s3.get_object(Bucket=bucket, Key=keys[0])["Body"].read())
    lines = {a["id"]: a for a in summary.get("accounts", [])}
    problems, unreachable = [], []
    for account in made:
        line = lines.get(account["id"])
        if line is None:
            problems.append(f"account {account['id']} ({account['name']}) is not in the summary")
        elif account["member_role"] is False:
            if line["status"] != "UNREACHABLE" or MEMBER_ROLE not in (line.get("error") or ""):
                problems.append(f"account {account['id']} ({account['name']}) has no member role, yet it is "
                                f"{line['status']}: {line.get('error')}")
            unreachable.append((account, line))
        elif line["status"] != "SUCCEEDED" or line["reports_written"] != line["principals"]:
            problems.append(f"account {account['id']} ({account['name']}) is {line['status']} with "
                            f"{line['reports_written']} of {line['principals']} reports: {line.get('error')}")
    extra = set(lines) - {a["id"] for a in made}
    if extra:
        problems.append(f"accounts the demo did not make were scanned: {sorted(extra)}")
    print()
    if problems:
        print("demo: the run did not end as the demo expects:")
        for p in problems:
            print(f"  {p}")
        return 1
    scanned = [a for a in made if a["member_role"] is not False]
    reports = sum(lines[a["id"]]["reports_written"] for a in scanned)
    print(f"demo: {len(scanned)} of {len(made)} accounts scanned in full ({reports} reports). The run ends "
          f"IncompleteRun (and `ila run` exits 1) only because of this, which the demo set up on purpose:")
    for account, line in unreachable:
        print(f"  {account['id']} ({account['name']}) is UNREACHABLE: the demo deployed no member role "
              f"({MEMBER_ROLE}) in it, so the scanner cannot assume one there.")
        print(f"    the scan says: {line.get('error')}")
    print("  In a real Organization, deploy infra/member-role.yaml to every member account (a StackSet, see"
          " docs/organizations.md, \"The member role\") and such an account is scanned like the others.")
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["seed"]:
        seed()
    elif sys.argv[1:2] == ["input"] and len(sys.argv) == 3:
        write_input(sys.argv[2])
    elif sys.argv[1:2] == ["copy"] and len(sys.argv) == 4:
        copy(sys.argv[2], sys.argv[3])
    elif sys.argv[1:2] == ["verdict"] and len(sys.argv) == 3:
        sys.exit(verdict(sys.argv[2]))
    else:
        sys.exit(__doc__)
