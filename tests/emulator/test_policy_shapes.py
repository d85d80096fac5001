"""Policy shapes access advisor evaluates (NotAction) and AWS managed policies, driven
through boto3 against the emulator (README, "Granted services", "AWS managed policies")."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
import requests
from botocore.exceptions import ClientError
from moto.iam.aws_managed_policies import aws_managed_policies_data

ACCT = "123456789012"
AWS_POLICIES = json.loads(aws_managed_policies_data)
POWER_USER_ARN = "arn:aws:iam::aws:policy/PowerUserAccess"
READ_ONLY_ARN = "arn:aws:iam::aws:policy/ReadOnlyAccess"
# The exact document of AWS's PowerUserAccess (its default version, as moto 5.2.5 ships it):
# Allow NotAction iam:*, organizations:*, account:*; then Allow a few iam, organizations
# and account actions (iam:ListRoles, organizations:DescribeOrganization, account:ListRegions…)
POWER_USER = AWS_POLICIES["PowerUserAccess"]["Document"]
ALL_BUT_PEOPLE = POWER_USER["Statement"][0]
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCT}:root"}, "Action": "sts:AssumeRole"}]})
NOW = datetime.now(timezone.utc).replace(microsecond=0)


def ago(days=0):
    return (NOW - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(*actions):
    return {"Effect": "Allow", "Action": list(actions), "Resource": "*"}


def allow_not(*not_actions):
    return {"Effect": "Allow", "NotAction": list(not_actions), "Resource": "*"}


def role(iam, name, *statements):
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    if statements:
        iam.put_role_policy(RoleName=name, PolicyName=f"{name}-inline", PolicyDocument=policy(*statements))
    return arn


def report(iam, arn, granularity="SERVICE_LEVEL"):
    job = iam.generate_service_last_accessed_details(Arn=arn, Granularity=granularity)["JobId"]
    resp = iam.get_service_last_accessed_details(JobId=job, MaxItems=1000)
    assert resp["JobStatus"] == "COMPLETED" and resp["IsTruncated"] is False
    return job, {s["ServiceNamespace"]: s for s in resp["ServicesLastAccessed"]}


def catalog(iam):
    """Every service of the emulator's catalog, as a client sees it: the job of a role
    allowed `*`."""
    _, svcs = report(iam, role(iam, "everything", allow("*")))
    assert len(svcs) >= 350
    return set(svcs)


def seed_s3_ec2_lambda(api, arn):
    api.activity([
        {"entity": arn, "service": "s3", "action": "GetObject", "region": "eu-west-1", "at": ago(days=3)},
        {"entity": arn, "service": "ec2", "action": "RunInstances", "region": "us-east-1", "at": ago(days=2)},
        {"entity": arn, "service": "lambda", "action": "Invoke", "region": "us-west-2", "at": ago(days=1)},
    ])


def assert_accessed_only(svcs, arn, accessed):
    for ns, svc in svcs.items():
        if ns in accessed:
            assert svc["LastAuthenticated"].replace(microsecond=0) == NOW - timedelta(days=accessed[ns]), ns
            assert svc["LastAuthenticatedEntity"] == arn and svc["TotalAuthenticatedEntities"] == 1
        else:
            assert "LastAuthenticated" not in svc and svc["TotalAuthenticatedEntities"] == 0, ns


# ------------------------------------------------------------------------- NotAction
def test_power_user_shaped_customer_policy_lists_every_service(api):
    iam = api.iam()
    everything = catalog(iam)
    assert {"iam", "organizations", "account", "s3", "ec2", "lambda"} <= everything
    pol = iam.create_policy(PolicyName="power-user-copy", PolicyDocument=json.dumps(POWER_USER))["Policy"]
    arn = role(iam, "power")
    iam.attach_role_policy(RoleName="power", PolicyArn=pol["Arn"])
    seed_s3_ec2_lambda(api, arn)
    _, svcs = report(iam, arn)
    # the NotAction statement allows every service but iam, organizations and account; the
    # second statement allows some actions of those three, so they are listed as well
    assert set(svcs) == everything
    assert_accessed_only(svcs, arn, {"s3": 3, "ec2": 2, "lambda": 1})
    assert svcs["s3"]["LastAuthenticatedRegion"] == "eu-west-1"
    # the managed policy's own job: the same services, the role's activity
    _, by_policy = report(iam, pol["Arn"])
    assert set(by_policy) == everything
    assert_accessed_only(by_policy, arn, {"s3": 3, "ec2": 2, "lambda": 1})


@pytest.mark.parametrize("second, missing", [
    (None, {"iam", "organizations", "account"}),
    (allow("iam:CreateServiceLinkedRole", "iam:DeleteServiceLinkedRole", "iam:ListRoles"),
     {"organizations", "account"}),
])
def test_not_action_leaves_out_the_services_it_excludes(api, second, missing):
    iam = api.iam()
    everything = catalog(iam)
    arn = role(iam, "power", *([ALL_BUT_PEOPLE] + ([second] if second else [])))
    seed_s3_ec2_lambda(api, arn)
    api.activity([{"entity": arn, "service": "organizations", "at": ago(days=1)}])  # not granted
    _, svcs = report(iam, arn)
    assert set(svcs) == everything - missing
    assert_accessed_only(svcs, arn, {"s3": 3, "ec2": 2, "lambda": 1})


def test_not_action_on_some_actions_keeps_the_service(api):
    iam = api.iam()
    everything = catalog(iam)
    arn = role(iam, "no-reads", allow_not("s3:Get*"))
    api.activity([{"entity": arn, "service": "s3", "action": "PutObject", "at": ago(days=4)}])
    _, svcs = report(iam, arn)
    assert set(svcs) == everything  # s3 stays: its other actions are allowed
    assert_accessed_only(svcs, arn, {"s3": 4})
    role(iam, "no-s3", allow_not("S3:*"))  # case-insensitive, the whole service
    _, svcs = report(iam, f"arn:aws:iam::{ACCT}:role/no-s3")
    assert set(svcs) == everything - {"s3"}


def test_action_level_with_not_action_on_a_tracked_service(api):
    iam = api.iam()
    full = role(iam, "s3-full", allow("s3:*", "lambda:*"))
    _, full_svcs = report(iam, full, "ACTION_LEVEL")
    every_s3 = [a["ActionName"] for a in full_svcs["s3"]["TrackedActionsLastAccessed"]]
    every_lambda = [a["ActionName"] for a in full_svcs["lambda"]["TrackedActionsLastAccessed"]]
    assert "GetObject" in every_s3 and "PutObject" in every_s3

    arn = role(iam, "writer", allow_not("s3:Get*", "s3:List*", "athena:*"), allow("s3:GetObject"))
    api.activity([
        {"entity": arn, "service": "s3", "action": "PutObject", "region": "eu-west-1", "at": ago(days=2)},
        {"entity": arn, "service": "s3", "action": "GetObject", "at": ago(days=5)},
        {"entity": arn, "service": "lambda", "action": "lambda:Invoke", "at": ago(days=1)},
    ])
    _, svcs = report(iam, arn, "ACTION_LEVEL")
    s3 = {a["ActionName"]: a for a in svcs["s3"]["TrackedActionsLastAccessed"]}
    # the tracked s3 actions the NotAction does not match, plus GetObject (second statement)
    expected = [a for a in every_s3 if not a.startswith(("Get", "List"))] + ["GetObject"]
    assert sorted(s3) == sorted(expected)
    assert "ListBuckets" not in s3 and "GetBucketPolicy" not in s3
    assert s3["PutObject"]["LastAccessedRegion"] == "eu-west-1"
    assert s3["PutObject"]["LastAccessedTime"].replace(microsecond=0) == NOW - timedelta(days=2)
    assert s3["GetObject"]["LastAccessedTime"].replace(microsecond=0) == NOW - timedelta(days=5)
    assert "LastAccessedTime" not in s3["DeleteObject"]
    # a service the NotAction does not name: all its tracked actions
    assert [a["ActionName"] for a in svcs["lambda"]["TrackedActionsLastAccessed"]] == every_lambda
    assert "athena" not in svcs  # excluded whole
    assert "TrackedActionsLastAccessed" not in svcs["glue"]  # granted, not tracked


def test_list_policies_granting_service_access_with_not_action(api):
    iam = api.iam()
    arn = role(iam, "mixed", ALL_BUT_PEOPLE)
    orgs = iam.create_policy(PolicyName="orgs-read", PolicyDocument=policy(allow("organizations:Describe*")))["Policy"]
    iam.attach_role_policy(RoleName="mixed", PolicyArn=orgs["Arn"])
    inline = {"PolicyName": "mixed-inline", "PolicyType": "INLINE", "EntityType": "ROLE", "EntityName": "mixed"}
    managed = {"PolicyName": "orgs-read", "PolicyType": "MANAGED", "PolicyArn": orgs["Arn"]}
    resp = iam.list_policies_granting_service_access(
        Arn=arn, ServiceNamespaces=["s3", "organizations", "iam", "ec2", "account"])
    got = {e["ServiceNamespace"]: e["Policies"] for e in resp["PoliciesGrantingServiceAccess"]}
    assert got == {"s3": [inline], "organizations": [managed], "iam": [], "ec2": [inline], "account": []}
    # the same rules as the job: a namespace is listed there exactly when some policy grants it
    _, svcs = report(iam, arn)
    assert "organizations" in svcs and "iam" not in svcs and "account" not in svcs

    role(iam, "half", allow_not("s3:Get*"))
    half = iam.list_policies_granting_service_access(
        Arn=f"arn:aws:iam::{ACCT}:role/half", ServiceNamespaces=["s3", "organizations"])
    assert [len(e["Policies"]) for e in half["PoliciesGrantingServiceAccess"]] == [1, 1]


# -------------------------------------------------------------- AWS managed policies
def test_aws_managed_power_user_access_attached_to_a_role(api):
    iam = api.iam()
    everything = catalog(iam)
    arn = role(iam, "aws-power")
    iam.attach_role_policy(RoleName="aws-power", PolicyArn=POWER_USER_ARN)
    assert iam.list_attached_role_policies(RoleName="aws-power")["AttachedPolicies"] == [
        {"PolicyName": "PowerUserAccess", "PolicyArn": POWER_USER_ARN}]
    got = iam.get_policy(PolicyArn=POWER_USER_ARN)["Policy"]
    assert got["AttachmentCount"] == 1 and got["DefaultVersionId"] == AWS_POLICIES["PowerUserAccess"]["DefaultVersionId"]
    version = iam.get_policy_version(PolicyArn=POWER_USER_ARN, VersionId=got["DefaultVersionId"])["PolicyVersion"]
    assert version["Document"] == POWER_USER and version["IsDefaultVersion"] is True
    seed_s3_ec2_lambda(api, arn)

    _, svcs = report(iam, arn)
    assert set(svcs) == everything  # as the customer copy of the same document
    assert_accessed_only(svcs, arn, {"s3": 3, "ec2": 2, "lambda": 1})
    # the AWS managed policy's own job: users and roles it is attached to
    job, by_policy = report(iam, POWER_USER_ARN)
    assert set(by_policy) == everything
    assert_accessed_only(by_policy, arn, {"s3": 3, "ec2": 2, "lambda": 1})
    ents = iam.get_service_last_accessed_details_with_entities(JobId=job, ServiceNamespace="s3")
    assert [(e["EntityInfo"]["Arn"], e["EntityInfo"]["Type"]) for e in ents["EntityDetailsList"]] == [(arn, "ROLE")]

    got = iam.list_policies_granting_service_access(Arn=arn, ServiceNamespaces=["s3", "organizations", "iam"])
    power = {"PolicyName": "PowerUserAccess", "PolicyType": "MANAGED", "PolicyArn": POWER_USER_ARN}
    assert [e["Policies"] for e in got["PoliciesGrantingServiceAccess"]] == [[power], [power], [power]]


def test_aws_managed_read_only_access_through_a_group(api):
    iam = api.iam()
    iam.create_group(GroupName="readers")
    iam.attach_group_policy(GroupName="readers", PolicyArn=READ_ONLY_ARN)
    user = iam.create_user(UserName="reader")["User"]["Arn"]
    iam.add_user_to_group(GroupName="readers", UserName="reader")
    api.activity([{"entity": user, "service": "s3", "action": "GetObject", "at": ago(days=6)}])
    _, svcs = report(iam, user, "ACTION_LEVEL")
    assert {"s3", "ec2", "lambda", "iam", "organizations"} <= set(svcs)
    s3 = [a["ActionName"] for a in svcs["s3"]["TrackedActionsLastAccessed"]]
    assert "GetObject" in s3 and "ListBuckets" in s3 and "PutObject" not in s3 and "DeleteBucket" not in s3
    assert svcs["s3"]["LastAuthenticatedEntity"] == user
    resp = iam.list_policies_granting_service_access(Arn=user, ServiceNamespaces=["s3"])
    assert resp["PoliciesGrantingServiceAccess"][0]["Policies"] == [
        {"PolicyName": "ReadOnlyAccess", "PolicyType": "MANAGED", "PolicyArn": READ_ONLY_ARN}]
    # an AWS managed policy attached to nothing: its services, no entities, no activity
    job, svcs = report(iam, "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    assert "s3" in svcs and all("LastAuthenticated" not in s for s in svcs.values())
    ents = iam.get_service_last_accessed_details_with_entities(JobId=job, ServiceNamespace="s3")
    assert ents["EntityDetailsList"] == []
    with pytest.raises(ClientError) as e:
        iam.generate_service_last_accessed_details(Arn="arn:aws:iam::aws:policy/NoSuchAwsPolicy")
    assert e.value.response["Error"]["Code"] == "NoSuchEntity"


def test_aws_managed_policies_in_listings_and_authorization_details(api):
    iam = api.iam()
    local = iam.create_policy(PolicyName="mine", PolicyDocument=policy(allow("s3:GetObject")))["Policy"]["Arn"]
    role(iam, "holder")
    iam.attach_role_policy(RoleName="holder", PolicyArn=POWER_USER_ARN)
    iam.attach_role_policy(RoleName="holder", PolicyArn=local)

    pages = iam.get_paginator("list_policies")
    scoped = [p["Arn"] for page in pages.paginate(Scope="Local") for p in page["Policies"]]
    assert scoped == [local]
    attached = [(p["Arn"], p["AttachmentCount"])
                for page in pages.paginate(Scope="AWS", OnlyAttached=True) for p in page["Policies"]]
    assert attached == [(POWER_USER_ARN, 1)]
    aws = [p["Arn"] for page in pages.paginate(Scope="AWS", PathPrefix="/") for p in page["Policies"]]
    assert len(aws) > 1000 and READ_ONLY_ARN in aws and local not in aws

    only_local = iam.get_account_authorization_details(Filter=["LocalManagedPolicy"])
    assert [p["Arn"] for p in only_local["Policies"]] == [local]
    assert only_local["RoleDetailList"] == []
    only_aws = {p["Arn"]: p for p in iam.get_account_authorization_details(Filter=["AWSManagedPolicy"])["Policies"]}
    assert list(only_aws) == [POWER_USER_ARN], "the AWS managed policies the account uses, only"
    everything = iam.get_account_authorization_details()["Policies"]
    assert sorted(p["Arn"] for p in everything) == sorted([POWER_USER_ARN, local])
    pu = only_aws[POWER_USER_ARN]
    assert pu["AttachmentCount"] == 1 and pu["PolicyName"] == "PowerUserAccess"
    default = next(v for v in pu["PolicyVersionList"] if v["IsDefaultVersion"])
    assert default["Document"] == POWER_USER
    roles = iam.get_account_authorization_details(Filter=["Role"])
    assert roles["Policies"] == []
    holder = next(r for r in roles["RoleDetailList"] if r["RoleName"] == "holder")
    assert sorted(p["PolicyArn"] for p in holder["AttachedManagedPolicies"]) == sorted([POWER_USER_ARN, local])


def test_aws_managed_policies_are_in_every_account_with_their_own_counts(api):
    iam = api.iam()
    role(iam, "holder")
    iam.attach_role_policy(RoleName="holder", PolicyArn=POWER_USER_ARN)
    here = iam.get_policy(PolicyArn=POWER_USER_ARN)["Policy"]
    other = api.control("accounts", {"account": "210987654321"}).json()
    iam_b = api.iam(creds={"aws_access_key_id": other["AccessKeyId"],
                           "aws_secret_access_key": other["SecretAccessKey"]})
    there = iam_b.get_policy(PolicyArn=POWER_USER_ARN)["Policy"]
    assert here["AttachmentCount"] == 1 and there["AttachmentCount"] == 0
    assert here["PolicyId"] == there["PolicyId"]  # one AWS managed policy, one id
    assert iam_b.get_policy_version(PolicyArn=POWER_USER_ARN, VersionId=there["DefaultVersionId"])[
        "PolicyVersion"]["Document"] == POWER_USER
    # a reset gives every account its AWS managed policies back, attached to nothing
    assert requests.post(f"{api.url}/moto-api/reset", timeout=10).status_code == 200
    assert iam.get_policy(PolicyArn=POWER_USER_ARN)["Policy"]["AttachmentCount"] == 0
