#!/usr/bin/env python3
"""The demo's account and its output.

    demo.py seed               # a small, realistic account with 400 days of activity
    demo.py copy RUN_ID DIR    # copy the run's reports and summary to DIR, print a table
"""
import datetime as dt
import json
import os
import random
import sys
import urllib.request

import boto3

ACCOUNT = "123456789012"
TEAMS = ["payments", "search", "platform", "data", "mobile", "growth"]
ROLE_KINDS = {  # role kind → the services its policy grants
    "api": ["s3", "dynamodb", "sqs", "sns", "kms", "logs", "xray", "secretsmanager"],
    "worker": ["sqs", "s3", "dynamodb", "lambda", "logs", "cloudwatch", "ec2"],
    "etl": ["glue", "athena", "s3", "lakeformation", "redshift", "kms", "logs"],
    "deploy": ["cloudformation", "iam", "lambda", "ecs", "ecr", "s3", "ssm", "codedeploy"],
}
REGIONS = ["us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-2"]


def client(name):
    return boto3.client(name, endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name="us-east-1")


def post(path, body):
    req = urllib.request.Request(os.environ["EMULATOR_URL"] + path, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    return json.loads(urllib.request.urlopen(req).read() or b"null")


def allow(services, actions="*"):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": [f"{s}:{actions}" for s in services], "Resource": "*"}]})


def when(rng, newest, oldest):
    return (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=rng.uniform(newest, oldest))).strftime("%Y-%m-%dT%H:%M:%SZ")


def seed():
    rng = random.Random(20261125)
    iam = client("iam")
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    activity, counts = [], {"role": 0, "user": 0, "group": 0, "policy": 0}
    # Customer-managed policies shared by roles.
    shared = {
        "observability": ["logs", "cloudwatch", "xray"],
        "read-config": ["ssm", "secretsmanager", "kms"],
        "legacy-admin": ["*"],
    }
    policy_arns = {}
    for name, services in shared.items():
        doc = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}) if services == ["*"] else allow(services)
        policy_arns[name] = iam.create_policy(PolicyName=name, Path="/demo/", PolicyDocument=doc)["Policy"]["Arn"]
        counts["policy"] += 1
    roles = []
    for team in TEAMS:
        for kind, services in ROLE_KINDS.items():
            name = f"{team}-{kind}"
            arn = iam.create_role(RoleName=name, Path="/demo/", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
            iam.put_role_policy(RoleName=name, PolicyName=f"{kind}-access", PolicyDocument=allow(services))
            iam.attach_role_policy(RoleName=name, PolicyArn=policy_arns["observability"])
            if rng.random() < 0.4:
                iam.attach_role_policy(RoleName=name, PolicyArn=policy_arns["read-config"])
            roles.append((arn, services))
            counts["role"] += 1
    # One forgotten admin role: granted everything, used almost nothing.
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
    groups = {"developers": ["s3", "logs", "cloudwatch", "lambda", "dynamodb"], "analysts": ["athena", "glue", "s3", "quicksight"], "admins": ["iam", "organizations", "ec2", "s3"]}
    users = []
    for group, services in groups.items():
        iam.create_group(GroupName=group, Path="/demo/")
        iam.put_group_policy(GroupName=group, PolicyName=f"{group}-access", PolicyDocument=allow(services))
        counts["group"] += 1
        for i in range(1, 6):
            user = f"{group[:-1]}-{i}"
            arn = iam.create_user(UserName=user, Path="/demo/")["User"]["Arn"]
            iam.add_user_to_group(GroupName=group, UserName=user)
            users.append(arn)
            counts["user"] += 1
            for service in services:
                if rng.random() < 0.5:
                    activity.append({"entity": arn, "service": service, "region": rng.choice(REGIONS), "at": when(rng, 0, 399)})
    post("/moto-api/iam-access-advisor/activity", activity)
    post("/moto-api/iam-access-advisor/config", {"job_seconds": 2.0})
    print(f"seeded {counts['role']} roles, {counts['user']} users, {counts['group']} groups, "
          f"{counts['policy']} policies, {len(activity)} activity records over the last 400 days")


def copy(run_id, target):
    s3, bucket = client("s3"), os.environ["REPORT_BUCKET"]
    paginator = s3.get_paginator("list_objects_v2")
    keys = [o["Key"] for page in paginator.paginate(Bucket=bucket, Prefix="reports/")
            for o in page.get("Contents", []) if f"/run={run_id}/" in o["Key"]]
    if not keys:
        sys.exit(f"no reports for run {run_id}")
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
            rows.append((doc["type"], doc["name"], f["services_granted"], f["services_active"],
                         f["services_stale"], f["services_never_used"], doc["job"]["status"]))
    rows.sort(key=lambda r: (-(r[4] + r[5]), r[0], r[1]))
    print(f"\n{'type':<8} {'principal':<24} {'granted':>7} {'active':>6} {'stale':>5} {'never used':>10}  status")
    for r in rows:
        print(f"{r[0]:<8} {r[1]:<24} {r[2]:>7} {r[3]:>6} {r[4]:>5} {r[5]:>10}  {r[6]}")
    print(f"\n{len(rows)} reports copied to {target}/reports/ (plus the run summary, its index and its page:"
          f" open {target}/reports/runs/*/run={run_id}/index.html)")


if __name__ == "__main__":
    if sys.argv[1:2] == ["seed"]:
        seed()
    elif sys.argv[1:2] == ["copy"] and len(sys.argv) == 4:
        copy(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
