"""Report tests run against the local stack (`make test-e2e` brings it up; or
`make local-up && source .local/env`)."""
import json
import os
import time
import urllib.request
import uuid

import boto3
import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def _env(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run `make test-e2e` (or `make local-up && source .local/env`)", pytrace=False)
    return value


class Stack:
    def __init__(self):
        self.endpoint = _env("AWS_ENDPOINT_URL")
        self.machine = _env("STATE_MACHINE_ARN")
        self.bucket = _env("REPORT_BUCKET")
        kw = dict(endpoint_url=self.endpoint, region_name="us-east-1")
        self.iam, self.s3, self.sfn = (boto3.client(s, **kw) for s in ("iam", "s3", "stepfunctions"))

    def control(self, path, body):
        req = urllib.request.Request(self.endpoint + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
        return json.loads(urllib.request.urlopen(req).read() or b"null")

    def finish(self, name, run_input, timeout=300):
        """Starts a run and waits for it to end: its DescribeExecution."""
        arn = self.sfn.start_execution(stateMachineArn=self.machine, name=name, input=json.dumps(run_input))["executionArn"]
        deadline = time.time() + timeout
        while time.time() < deadline:
            d = self.sfn.describe_execution(executionArn=arn)
            if d["status"] != "RUNNING":
                return d
            time.sleep(0.5)
        pytest.fail(f"execution {name} still running after {timeout} s")

    def run(self, name, run_input, timeout=300):
        """A run that must succeed: its output."""
        d = self.finish(name, run_input, timeout)
        assert d["status"] == "SUCCEEDED", (d.get("error"), d.get("cause"))
        return json.loads(d["output"])

    def json(self, key):
        body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        assert body.count(b"\n") == 1 and body.endswith(b"\n"), f"{key} is one line"
        return json.loads(body)

    def keys(self, prefix):
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return [o["Key"] for page in pages for o in page.get("Contents", [])]


@pytest.fixture(scope="session")
def stack():
    return Stack()


from helpers import ago, allow  # noqa: E402


@pytest.fixture(scope="session")
def account(stack):
    """The seeded truth: a `*` role, a group whose members used some services, a policy
    attached to two roles, a role with action-level activity — and two runs over it."""
    tag = uuid.uuid4().hex[:10]
    path = f"/reports/{tag}/"
    iam = stack.iam
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})

    def role(name, inline=None):
        arn = iam.create_role(RoleName=f"{tag}-{name}", Path=path, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
        if inline:
            iam.put_role_policy(RoleName=f"{tag}-{name}", PolicyName=f"{name}-inline", PolicyDocument=inline)
        return arn

    t = {"path": path, "tag": tag}
    t["admin"] = role("admin", json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    t["actor"] = role("actor", allow("s3:GetObject", "s3:PutObject", "ec2:DescribeInstances"))
    t["r1"], t["r2"] = role("r1"), role("r2")
    t["policy"] = iam.create_policy(PolicyName=f"{tag}-shared", Path=path, PolicyDocument=allow("sqs:*", "kms:Decrypt"))["Policy"]["Arn"]
    for r in ("r1", "r2"):
        iam.attach_role_policy(RoleName=f"{tag}-{r}", PolicyArn=t["policy"])
    t["group"] = iam.create_group(GroupName=f"{tag}-team", Path=path)["Group"]["Arn"]
    iam.put_group_policy(GroupName=f"{tag}-team", PolicyName="team-inline", PolicyDocument=allow("s3:*", "dynamodb:*", "sns:*"))
    for m in ("m1", "m2"):
        t[m] = iam.create_user(UserName=f"{tag}-{m}", Path=path)["User"]["Arn"]
        iam.add_user_to_group(GroupName=f"{tag}-team", UserName=f"{tag}-{m}")
    t["at"] = {
        "admin_iam": ago(1), "m1_s3": ago(2), "m1_ddb": ago(100), "m2_ddb": ago(200),
        "r1_sqs": ago(5), "r2_sqs": ago(1), "actor_get": ago(10), "actor_describe": ago(120),
    }
    a = t["at"]
    stack.control("/moto-api/iam-access-advisor/activity", [
        {"entity": t["admin"], "service": "iam", "action": "ListRoles", "region": "us-east-1", "at": a["admin_iam"]},
        {"entity": t["m1"], "service": "s3", "action": "ListBucket", "region": "eu-west-1", "at": a["m1_s3"]},
        {"entity": t["m1"], "service": "dynamodb", "region": "eu-west-1", "at": a["m1_ddb"]},
        {"entity": t["m2"], "service": "dynamodb", "region": "us-west-2", "at": a["m2_ddb"]},
        {"entity": t["r1"], "service": "sqs", "action": "SendMessage", "region": "us-east-1", "at": a["r1_sqs"]},
        {"entity": t["r2"], "service": "sqs", "action": "ReceiveMessage", "region": "eu-central-1", "at": a["r2_sqs"]},
        {"entity": t["actor"], "service": "s3", "action": "GetObject", "region": "eu-west-1", "at": a["actor_get"]},
        {"entity": t["actor"], "service": "ec2", "action": "DescribeInstances", "region": "us-east-1", "at": a["actor_describe"]},
    ])
    stack.control("/moto-api/iam-access-advisor/config", {"job_seconds": 1.0, "fail": []})
    poll = {"initial_wait_seconds": 1, "max_wait_seconds": 1, "max_attempts": 30}
    discover = {"path_prefix": path}
    t["service_run"] = stack.run(f"rep-svc-{tag}", {"discover": discover, "granularity": "SERVICE_LEVEL", "poll": poll,
                                                    "report": {"entities": True, "granting_policies": True}})
    t["action_run"] = stack.run(f"rep-act-{tag}", {"discover": discover, "granularity": "ACTION_LEVEL", "poll": poll})
    return t
