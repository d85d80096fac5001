"""Conformance suite for the IAM access-advisor emulator, driven through boto3."""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from botocore.exceptions import ClientError

ACCT = "123456789012"


def doc(*actions, effect="Allow"):
    return json.dumps({"Version": "2012-10-17",
                       "Statement": [{"Effect": effect, "Action": list(actions), "Resource": "*"}]})


TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCT}:root"}, "Action": "sts:AssumeRole"}]})


def iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


NOW = datetime.now(timezone.utc).replace(microsecond=0)


def ago(days=0, hours=0):
    return iso(NOW - timedelta(days=days, hours=hours))


def code(err: ClientError) -> str:
    return err.response["Error"]["Code"]


def status(err: ClientError) -> int:
    return err.response["ResponseMetadata"]["HTTPStatusCode"]


def report(iam, arn, granularity="SERVICE_LEVEL", **kw):
    job = iam.generate_service_last_accessed_details(Arn=arn, Granularity=granularity)["JobId"]
    resp = iam.get_service_last_accessed_details(JobId=job, MaxItems=1000, **kw)
    assert resp["JobStatus"] == "COMPLETED"
    return job, {s["ServiceNamespace"]: s for s in resp["ServicesLastAccessed"]}


def make_user(iam, name, *actions):
    arn = iam.create_user(UserName=name)["User"]["Arn"]
    if actions:
        iam.put_user_policy(UserName=name, PolicyName=f"{name}-inline", PolicyDocument=doc(*actions))
    return arn


def make_role(iam, name, *actions):
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    if actions:
        iam.put_role_policy(RoleName=name, PolicyName=f"{name}-inline", PolicyDocument=doc(*actions))
    return arn


# ----------------------------------------------------------------- happy paths
def test_generate_and_get_service_level(api):
    iam = api.iam()
    arn = make_user(iam, "alice", "s3:Get*", "dynamodb:GetItem", "iam:PassRole")
    api.activity([
        {"entity": arn, "service": "s3", "action": "GetObject", "region": "eu-west-1", "at": ago(days=2)},
        {"entity": arn, "service": "s3", "region": "us-east-1", "at": ago(days=5)},
        {"entity": arn, "service": "ec2", "region": "us-east-1", "at": ago(days=1)},  # not granted
    ])
    job = iam.generate_service_last_accessed_details(Arn=arn)["JobId"]
    assert uuid.UUID(job)
    resp = iam.get_service_last_accessed_details(JobId=job)
    assert resp["JobStatus"] == "COMPLETED"
    assert resp["JobType"] == "SERVICE_LEVEL"
    assert resp["JobCompletionDate"] >= resp["JobCreationDate"]
    assert resp["IsTruncated"] is False
    svcs = resp["ServicesLastAccessed"]
    assert [s["ServiceNamespace"] for s in svcs] == ["dynamodb", "iam", "s3"]
    s3 = svcs[2]
    assert s3["ServiceName"] == "Amazon Simple Storage Service"
    assert s3["LastAuthenticated"] == NOW - timedelta(days=2)
    assert s3["LastAuthenticatedEntity"] == arn
    assert s3["LastAuthenticatedRegion"] == "eu-west-1"
    assert s3["TotalAuthenticatedEntities"] == 1
    assert "TrackedActionsLastAccessed" not in s3
    ddb = svcs[0]
    assert ddb["TotalAuthenticatedEntities"] == 0
    assert "LastAuthenticated" not in ddb and "LastAuthenticatedEntity" not in ddb


def test_unknown_namespace_in_policy_is_reported(api):
    iam = api.iam()
    arn = make_user(iam, "odd", "madeupsvc:DoThing")
    _, svcs = report(iam, arn)
    assert svcs["madeupsvc"]["ServiceName"] == "madeupsvc"


def test_deny_ignored_notaction_grants_the_rest(api):
    iam = api.iam()
    iam.create_user(UserName="d")
    iam.put_user_policy(UserName="d", PolicyName="p", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["sqs:SendMessage", "sns:Publish"], "Resource": "*"},
        {"Effect": "Deny", "Action": "sns:*", "Resource": "*"}]}))
    _, svcs = report(iam, f"arn:aws:iam::{ACCT}:user/d")
    assert list(svcs) == ["sns", "sqs"]  # a Deny is not subtracted
    iam.put_user_policy(UserName="d", PolicyName="q", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "NotAction": "kms:*", "Resource": "*"}]}))
    _, everything = report(iam, make_role(iam, "everything", "*"))
    _, svcs = report(iam, f"arn:aws:iam::{ACCT}:user/d")
    assert set(svcs) == set(everything) - {"kms"}  # NotAction: every service but kms


def test_star_principal_sees_whole_catalog_and_pagination_is_stable(api):
    iam = api.iam()
    arn = make_role(iam, "admin", "*")
    job = iam.generate_service_last_accessed_details(Arn=arn)["JobId"]
    big = iam.get_service_last_accessed_details(JobId=job, MaxItems=1000)
    assert big["IsTruncated"] is False
    names = [s["ServiceNamespace"] for s in big["ServicesLastAccessed"]]
    assert len(names) >= 350 and names == sorted(names) and len(set(names)) == len(names)

    pages, marker = [], None
    while True:
        kw = {"Marker": marker} if marker else {}
        resp = iam.get_service_last_accessed_details(JobId=job, MaxItems=100, **kw)
        pages.append(resp["ServicesLastAccessed"])
        if not resp["IsTruncated"]:
            break
        marker = resp["Marker"]
    assert len(pages) >= 4 and all(len(p) == 100 for p in pages[:-1])
    assert [s["ServiceNamespace"] for p in pages for s in p] == names

    one_by_one, marker = [], None
    while True:
        kw = {"Marker": marker} if marker else {}
        resp = iam.get_service_last_accessed_details(JobId=job, MaxItems=1, **kw)
        assert len(resp["ServicesLastAccessed"]) == 1
        one_by_one += resp["ServicesLastAccessed"]
        if not resp["IsTruncated"]:
            break
        marker = resp["Marker"]
    assert one_by_one == big["ServicesLastAccessed"]


def test_user_gets_group_policies(api):
    iam = api.iam()
    arn = make_user(iam, "bob", "sqs:SendMessage")
    iam.create_group(GroupName="devs")
    iam.add_user_to_group(GroupName="devs", UserName="bob")
    iam.put_group_policy(GroupName="devs", PolicyName="devs-inline", PolicyDocument=doc("lambda:Invoke*"))
    pol = iam.create_policy(PolicyName="kms-use", PolicyDocument=doc("kms:Decrypt"))["Policy"]["Arn"]
    iam.attach_group_policy(GroupName="devs", PolicyArn=pol)
    _, svcs = report(iam, arn)
    assert sorted(svcs) == ["kms", "lambda", "sqs"]

    resp = iam.list_policies_granting_service_access(Arn=arn, ServiceNamespaces=["lambda", "kms", "sqs", "s3"])
    by_ns = {e["ServiceNamespace"]: e["Policies"] for e in resp["PoliciesGrantingServiceAccess"]}
    assert resp["IsTruncated"] is False
    assert by_ns["lambda"] == [{"PolicyName": "devs-inline", "PolicyType": "INLINE",
                                "EntityType": "GROUP", "EntityName": "devs"}]
    assert by_ns["kms"] == [{"PolicyName": "kms-use", "PolicyType": "MANAGED", "PolicyArn": pol}]
    assert by_ns["sqs"] == [{"PolicyName": "bob-inline", "PolicyType": "INLINE",
                             "EntityType": "USER", "EntityName": "bob"}]
    assert by_ns["s3"] == []


def test_group_view_is_members_activity(api):
    iam = api.iam()
    iam.create_group(GroupName="ops")
    iam.put_group_policy(GroupName="ops", PolicyName="p", PolicyDocument=doc("s3:*", "ec2:Describe*"))
    u1 = make_user(iam, "u1")
    u2 = make_user(iam, "u2")
    outsider = make_user(iam, "outsider", "s3:*")
    for u in ("u1", "u2"):
        iam.add_user_to_group(GroupName="ops", UserName=u)
    api.activity([
        {"entity": u1, "service": "s3", "region": "us-east-1", "at": ago(days=3)},
        {"entity": u2, "service": "s3", "region": "us-west-2", "at": ago(days=1)},
        {"entity": outsider, "service": "s3", "region": "us-east-1", "at": ago(hours=1)},
    ])
    job, svcs = report(iam, f"arn:aws:iam::{ACCT}:group/ops")
    assert svcs["s3"]["LastAuthenticatedEntity"] == u2
    assert svcs["s3"]["LastAuthenticatedRegion"] == "us-west-2"
    assert svcs["s3"]["TotalAuthenticatedEntities"] == 2
    assert svcs["ec2"]["TotalAuthenticatedEntities"] == 0
    ents = iam.get_service_last_accessed_details_with_entities(JobId=job, ServiceNamespace="s3")
    assert {e["EntityInfo"]["Arn"] for e in ents["EntityDetailsList"]} == {u1, u2}
    assert all(e["EntityInfo"]["Type"] == "USER" for e in ents["EntityDetailsList"])


def test_policy_attached_to_two_roles(api):
    iam = api.iam()
    pol = iam.create_policy(PolicyName="shared", PolicyDocument=doc("secretsmanager:GetSecretValue"))["Policy"]["Arn"]
    r1, r2, r3 = make_role(iam, "r1"), make_role(iam, "r2"), make_role(iam, "r3")
    for r in ("r1", "r2", "r3"):
        iam.attach_role_policy(RoleName=r, PolicyArn=pol)
    api.activity([
        {"entity": r1, "service": "secretsmanager", "region": "us-east-1", "at": ago(days=4)},
        {"entity": f"arn:aws:sts::{ACCT}:assumed-role/r2/sess", "service": "secretsmanager",
         "action": "GetSecretValue", "region": "eu-central-1", "at": ago(days=2)},
    ])
    job, svcs = report(iam, pol)
    sm = svcs["secretsmanager"]
    assert sm["TotalAuthenticatedEntities"] == 2
    assert sm["LastAuthenticatedEntity"] == r2
    ents = iam.get_service_last_accessed_details_with_entities(JobId=job, ServiceNamespace="secretsmanager")
    assert ents["JobStatus"] == "COMPLETED" and ents["IsTruncated"] is False
    by_arn = {e["EntityInfo"]["Arn"]: e for e in ents["EntityDetailsList"]}
    assert set(by_arn) == {r1, r2, r3}
    assert by_arn[r1]["LastAuthenticated"] == NOW - timedelta(days=4)
    assert by_arn[r2]["EntityInfo"]["Type"] == "ROLE" and by_arn[r2]["EntityInfo"]["Name"] == "r2"
    assert "LastAuthenticated" not in by_arn[r3]  # attached but never used
    # pagination of entities
    first = iam.get_service_last_accessed_details_with_entities(
        JobId=job, ServiceNamespace="secretsmanager", MaxItems=2)
    assert first["IsTruncated"] is True and len(first["EntityDetailsList"]) == 2
    rest = iam.get_service_last_accessed_details_with_entities(
        JobId=job, ServiceNamespace="secretsmanager", MaxItems=2, Marker=first["Marker"])
    assert rest["IsTruncated"] is False
    assert first["EntityDetailsList"] + rest["EntityDetailsList"] == ents["EntityDetailsList"]


def test_activity_older_than_400_days_ignored(api):
    iam = api.iam()
    arn = make_role(iam, "old", "sns:Publish", "sqs:*")
    api.activity([
        {"entity": arn, "service": "sns", "region": "us-east-1", "at": ago(days=401)},
        {"entity": arn, "service": "sqs", "region": "us-east-1", "at": ago(days=399)},
    ])
    _, svcs = report(iam, arn)
    assert svcs["sns"]["TotalAuthenticatedEntities"] == 0 and "LastAuthenticated" not in svcs["sns"]
    assert svcs["sqs"]["TotalAuthenticatedEntities"] == 1


def test_aging_moves_activity_out_of_the_window(api, emulator_url):
    import urllib.request
    iam = api.iam()
    arn = make_role(iam, "aging", "sqs:*", "sns:*")
    api.activity([
        {"entity": arn, "service": "sqs", "at": ago(days=395)},
        {"entity": arn, "service": "sns", "at": ago(days=85)},
    ])
    _, before = report(iam, arn)
    assert before["sqs"]["TotalAuthenticatedEntities"] == 1

    def age(body):
        req = urllib.request.Request(f"{emulator_url}/moto-api/iam-access-advisor/age",
                                     data=json.dumps(body).encode(), method="POST")
        try:
            with urllib.request.urlopen(req) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read())

    assert age({"days": 10}) == (200, {"aged": 2, "days": 10})
    _, after = report(iam, arn)
    assert "LastAuthenticated" not in after["sqs"] and after["sqs"]["TotalAuthenticatedEntities"] == 0
    assert after["sns"]["LastAuthenticated"].replace(microsecond=0) == NOW - timedelta(days=95)
    status_code, body = age({"days": "ten"})
    assert status_code == 400 and body["field"] == "days"


def test_authorization_details_name_each_managed_policy(api):
    iam = api.iam()
    arn = iam.create_policy(PolicyName="gaad-named", PolicyDocument=doc("s3:GetObject"))["Policy"]["Arn"]
    details = iam.get_account_authorization_details(Filter=["LocalManagedPolicy"])["Policies"]
    mine = next(p for p in details if p["Arn"] == arn)
    assert mine["PolicyName"] == "gaad-named" and mine["PolicyId"].startswith("A")
    assert mine["PolicyVersionList"][0]["Document"]["Statement"][0]["Action"] == ["s3:GetObject"]


def test_action_level_tracked_vs_untracked(api):
    iam = api.iam()
    arn = make_role(iam, "al", "s3:GetObject", "s3:List*", "athena:*", "iam:PassRole")
    api.activity([
        {"entity": arn, "service": "s3", "action": "GetObject", "region": "ap-south-1", "at": ago(days=1)},
        {"entity": arn, "service": "athena", "action": "StartQueryExecution", "region": "us-east-1", "at": ago(days=1)},
    ])
    job, svcs = report(iam, arn, "ACTION_LEVEL")
    resp = iam.get_service_last_accessed_details(JobId=job)
    assert resp["JobType"] == "ACTION_LEVEL"
    s3_actions = {a["ActionName"]: a for a in svcs["s3"]["TrackedActionsLastAccessed"]}
    assert "GetObject" in s3_actions and "ListBuckets" in s3_actions and "PutObject" not in s3_actions
    assert s3_actions["GetObject"]["LastAccessedEntity"] == arn
    assert s3_actions["GetObject"]["LastAccessedRegion"] == "ap-south-1"
    assert s3_actions["GetObject"]["LastAccessedTime"] == NOW - timedelta(days=1)
    assert "LastAccessedTime" not in s3_actions["ListBuckets"]
    assert [a["ActionName"] for a in svcs["iam"]["TrackedActionsLastAccessed"]] == ["PassRole"]
    assert "TrackedActionsLastAccessed" not in svcs["athena"]
    assert svcs["athena"]["TotalAuthenticatedEntities"] == 1
    # service-level job never carries action data
    _, plain = report(iam, arn)
    assert "TrackedActionsLastAccessed" not in plain["s3"]


def test_in_progress_then_completed(api):
    api.config(job_seconds=1.5)
    iam = api.iam()
    arn = make_user(iam, "slow", "s3:*")
    job = iam.generate_service_last_accessed_details(Arn=arn)["JobId"]
    resp = iam.get_service_last_accessed_details(JobId=job)
    assert resp["JobStatus"] == "IN_PROGRESS"
    assert resp["ServicesLastAccessed"] == [] and "JobCompletionDate" not in resp
    ents = iam.get_service_last_accessed_details_with_entities(JobId=job, ServiceNamespace="s3")
    assert ents["JobStatus"] == "IN_PROGRESS" and ents["EntityDetailsList"] == []
    time.sleep(1.6)
    resp = iam.get_service_last_accessed_details(JobId=job)
    assert resp["JobStatus"] == "COMPLETED"
    assert resp["JobCompletionDate"] - resp["JobCreationDate"] == timedelta(seconds=1.5)
    assert [s["ServiceNamespace"] for s in resp["ServicesLastAccessed"]] == ["s3"]


def test_failed_job(api):
    iam = api.iam()
    arn = make_user(iam, "broken", "s3:*")
    api.config(fail=[arn])
    job = iam.generate_service_last_accessed_details(Arn=arn)["JobId"]
    resp = iam.get_service_last_accessed_details(JobId=job)
    assert resp["JobStatus"] == "FAILED"
    assert resp["Error"]["Code"] and resp["Error"]["Message"]
    assert resp["ServicesLastAccessed"] == []
    ents = iam.get_service_last_accessed_details_with_entities(JobId=job, ServiceNamespace="s3")
    assert ents["JobStatus"] == "FAILED" and ents["Error"]["Code"]


# ---------------------------------------------------------------------- errors
def test_errors(api):
    iam = api.iam(validate=False)
    make_user(iam, "e", "s3:*")
    with pytest.raises(ClientError) as e:
        iam.generate_service_last_accessed_details(Arn="not-an-arn-at-all-really")
    assert code(e.value) == "InvalidInput" and status(e.value) == 400
    with pytest.raises(ClientError) as e:
        iam.generate_service_last_accessed_details(Arn=f"arn:aws:s3:::{ACCT}-bucket")
    assert code(e.value) == "InvalidInput"
    for missing in (f"arn:aws:iam::{ACCT}:user/ghost", f"arn:aws:iam::{ACCT}:role/ghost",
                    f"arn:aws:iam::{ACCT}:group/ghost", f"arn:aws:iam::{ACCT}:policy/ghost"):
        with pytest.raises(ClientError) as e:
            iam.generate_service_last_accessed_details(Arn=missing)
        assert code(e.value) == "NoSuchEntity" and status(e.value) == 404
    with pytest.raises(ClientError) as e:
        iam.get_service_last_accessed_details(JobId=str(uuid.uuid4()))
    assert code(e.value) == "NoSuchEntity" and status(e.value) == 404
    with pytest.raises(ClientError) as e:
        iam.get_service_last_accessed_details_with_entities(JobId=str(uuid.uuid4()), ServiceNamespace="s3")
    assert code(e.value) == "NoSuchEntity"

    job = iam.generate_service_last_accessed_details(Arn=f"arn:aws:iam::{ACCT}:user/e")["JobId"]
    for bad in (0, 1001):
        with pytest.raises(ClientError) as e:
            iam.get_service_last_accessed_details(JobId=job, MaxItems=bad)
        assert code(e.value) == "ValidationError" and status(e.value) == 400
        with pytest.raises(ClientError) as e:
            iam.get_service_last_accessed_details_with_entities(JobId=job, ServiceNamespace="s3", MaxItems=bad)
        assert code(e.value) == "ValidationError"
    for marker in ("garbage!!", "c29tZXRoaW5nfDE"):
        with pytest.raises(ClientError) as e:
            iam.get_service_last_accessed_details(JobId=job, Marker=marker)
        assert code(e.value) == "InvalidInput" and status(e.value) == 400

    arn = f"arn:aws:iam::{ACCT}:user/e"
    with pytest.raises(ClientError) as e:
        iam.list_policies_granting_service_access(Arn=arn, ServiceNamespaces=[f"s{i}" for i in range(201)])
    assert code(e.value) == "ValidationError" and status(e.value) == 400
    with pytest.raises(ClientError) as e:
        iam.list_policies_granting_service_access(Arn=arn, ServiceNamespaces=[])
    assert code(e.value) == "ValidationError"
    ok = iam.list_policies_granting_service_access(Arn=arn, ServiceNamespaces=[f"s{i}" for i in range(200)])
    assert len(ok["PoliciesGrantingServiceAccess"]) == 200
    with pytest.raises(ClientError) as e:
        iam.list_policies_granting_service_access(Arn=f"arn:aws:iam::{ACCT}:user/ghost", ServiceNamespaces=["s3"])
    assert code(e.value) == "NoSuchEntity"
    with pytest.raises(ClientError) as e:
        iam.list_policies_granting_service_access(Arn="arn:aws:iam::aws:policy/AdministratorAccess",
                                                  ServiceNamespaces=["s3"])
    assert code(e.value) == "InvalidInput"


# -------------------------------------------------------------- caller binding
def reader_session(api, name):
    """An IAM client in a new STS session of the role `reader`, with session name `name`."""
    c = api.client("sts").assume_role(RoleArn=f"arn:aws:iam::{ACCT}:role/reader",
                                      RoleSessionName=name)["Credentials"]
    return api.iam(creds={"aws_access_key_id": c["AccessKeyId"], "aws_secret_access_key": c["SecretAccessKey"],
                          "aws_session_token": c["SessionToken"]})


def test_caller_binding(api):
    root_iam = api.iam()
    target = make_user(root_iam, "target", "s3:*")
    make_role(root_iam, "reader")
    a1, a2, other = (reader_session(api, n) for n in ("s1", "s1", "s2"))
    job = a1.generate_service_last_accessed_details(Arn=target)["JobId"]
    assert a2.get_service_last_accessed_details(JobId=job)["JobStatus"] == "COMPLETED"
    assert a2.get_service_last_accessed_details_with_entities(JobId=job, ServiceNamespace="s3")["EntityDetailsList"]
    for reader in (other, root_iam):
        with pytest.raises(ClientError) as e:
            reader.get_service_last_accessed_details(JobId=job)
        assert code(e.value) == "NoSuchEntity" and "another identity" in e.value.response["Error"]["Message"]
        with pytest.raises(ClientError) as e:
            reader.get_service_last_accessed_details_with_entities(JobId=job, ServiceNamespace="s3")
        assert code(e.value) == "NoSuchEntity"

    key = root_iam.create_access_key(UserName="target")["AccessKey"]
    user_iam = api.iam(creds={"aws_access_key_id": key["AccessKeyId"],
                              "aws_secret_access_key": key["SecretAccessKey"]})
    ujob = user_iam.generate_service_last_accessed_details(Arn=target)["JobId"]
    assert user_iam.get_service_last_accessed_details(JobId=ujob)["JobStatus"] == "COMPLETED"
    with pytest.raises(ClientError) as e:
        root_iam.get_service_last_accessed_details(JobId=ujob)
    assert code(e.value) == "NoSuchEntity"
    rjob = root_iam.generate_service_last_accessed_details(Arn=target)["JobId"]
    assert api.iam().get_service_last_accessed_details(JobId=rjob)["JobStatus"] == "COMPLETED"
    with pytest.raises(ClientError):
        user_iam.get_service_last_accessed_details(JobId=rjob)


def test_caller_binding_session_binds_a_job_to_the_access_key_that_created_it(api):
    root_iam = api.iam()
    target = make_user(root_iam, "target", "s3:*")
    make_role(root_iam, "reader")
    api.config(caller_binding="session")
    # same role, same session name, two STS sessions (two AssumeRole calls)
    a1, a2 = reader_session(api, "s1"), reader_session(api, "s1")
    job = a1.generate_service_last_accessed_details(Arn=target)["JobId"]
    assert a1.get_service_last_accessed_details(JobId=job)["JobStatus"] == "COMPLETED"
    assert a1.get_service_last_accessed_details_with_entities(JobId=job, ServiceNamespace="s3")["EntityDetailsList"]
    with pytest.raises(ClientError) as e:
        a2.get_service_last_accessed_details(JobId=job)
    assert code(e.value) == "NoSuchEntity" and "another session" in e.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as e:
        a2.get_service_last_accessed_details_with_entities(JobId=job, ServiceNamespace="s3")
    assert code(e.value) == "NoSuchEntity"
    # the binding is IAM's, read at each read: back to the default, the other session reads it
    api.config(caller_binding="role_session_name")
    assert a2.get_service_last_accessed_details(JobId=job)["JobStatus"] == "COMPLETED"
    r = api.control("config", {"caller_binding": "sts"})
    assert r.status_code == 400 and "caller_binding must be one of" in r.text


# ------------------------------------------------------------------ throttling
def test_throttle_fraction_and_stats(api):
    iam = api.iam(retries=1)
    iam.list_roles()
    api.config(throttle={"fraction": 1.0})
    for call in (iam.list_roles, iam.list_users):
        with pytest.raises(ClientError) as e:
            call()
        assert code(e.value) == "Throttling" and status(e.value) == 400
        assert e.value.response["Error"]["Message"] == "Rate exceeded"
    with pytest.raises(ClientError) as e:
        iam.generate_service_last_accessed_details(Arn=f"arn:aws:iam::{ACCT}:user/nobody")
    assert code(e.value) == "Throttling"  # throttled before reaching the backend
    api.config(throttle={"fraction": 0.0})
    iam.list_roles()
    stats = api.control("stats", method="GET").json()
    assert stats["calls"]["ListRoles"] == 3 and stats["calls"]["ListUsers"] == 1
    assert stats["calls"]["GenerateServiceLastAccessedDetails"] == 1
    assert stats["throttled"] == {"ListRoles": 1, "ListUsers": 1, "GenerateServiceLastAccessedDetails": 1}
    assert stats["total_calls"] == 5 and stats["total_throttled"] == 3
    # one account here: its own counts are the totals
    assert stats["by_account"] == {ACCT: {k: stats[k] for k in ("calls", "throttled", "total_calls", "total_throttled")}}


def test_token_bucket(api):
    iam = api.iam(retries=1)
    api.config(throttle={"rate": 0.2, "burst": 2})
    iam.list_roles()
    iam.list_users()
    with pytest.raises(ClientError) as e:
        iam.list_roles()
    assert code(e.value) == "Throttling" and status(e.value) == 400
    api.config(throttle={"rate": 50, "burst": 1})
    iam.list_roles()
    time.sleep(0.1)
    iam.list_roles()


# ---------------------------------------------------------------------- control
def test_control_validation_and_config(api):
    r = api.control("activity", [{"entity": "nope", "service": "s3", "at": ago()}])
    assert r.status_code == 400 and r.json()["field"] == "entity"
    r = api.control("activity", [{"entity": f"arn:aws:iam::{ACCT}:user/x", "service": "s3", "at": "yesterday"}])
    assert r.status_code == 400 and r.json()["field"] == "at"
    r = api.control("activity", [{"entity": f"arn:aws:iam::{ACCT}:user/x", "service": 3, "at": ago()}])
    assert r.status_code == 400 and r.json()["field"] == "service"
    assert api.activity([{"entity": f"arn:aws:iam::{ACCT}:user/x", "service": "s3",
                          "region": "us-east-1", "at": ago()}]) == {"added": 1}
    r = api.control("config", {"bogus": 1})
    assert r.status_code == 400
    cfg = api.control("config", method="GET").json()
    assert cfg["job_seconds"] == 0 and cfg["fail"] == []
    assert set(cfg) >= {"job_seconds", "throttle", "fail", "lambda_bridge_url"}


def test_reset_clears_everything(api, emulator_url):
    import requests

    iam = api.iam()
    arn = make_user(iam, "r", "s3:*")
    api.config(job_seconds=0, fail=["arn:aws:iam::123456789012:user/zzz"], throttle={"rate": 100},
               deny=["arn:aws:iam::123456789012:user/zzz"], role_last_used_lag_seconds=3600)
    api.activity([{"entity": arn, "service": "s3", "region": "us-east-1", "at": ago()}])
    job = iam.generate_service_last_accessed_details(Arn=arn)["JobId"]
    assert requests.post(f"{emulator_url}/moto-api/reset", timeout=10).status_code == 200
    cfg = api.control("config", method="GET").json()
    assert cfg == {"job_seconds": 1.0, "throttle": {"rate": None, "burst": None, "fraction": 0.0},
                   "fail": [], "lambda_bridge_url": None, "lambda_bridge_functions": {}, "deny": [],
                   "advisor_lag_seconds": 0.0, "role_last_used_lag_seconds": 0.0,
                   "caller_binding": "role_session_name"}
    stats = api.control("stats", method="GET").json()
    assert stats == {"calls": {}, "throttled": {}, "total_calls": 0, "total_throttled": 0, "by_account": {}}
    api.config(job_seconds=0)
    with pytest.raises(ClientError) as e:
        iam.get_service_last_accessed_details(JobId=job)
    assert code(e.value) == "NoSuchEntity"
    arn = make_user(iam, "r", "s3:*")
    _, svcs = report(iam, arn)
    assert svcs["s3"]["TotalAuthenticatedEntities"] == 0  # activity gone


# ------------------------------------------------------------------ lambda bridge
class _FakeCargoLambda(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        name = self.path.split("/")[3]
        if self.path != f"/2015-03-31/functions/{name}/invocations":
            self.send_response(404)
            self.end_headers()
            return
        if name == "ok-fn":
            out, code_ = json.dumps({"echo": json.loads(body), "fn": name}).encode(), 200
        elif name == "raw-fn":
            out, code_ = b"kaboom", 502
        else:
            out, code_ = json.dumps({"errorType": "InvalidInput", "errorMessage": "bad arn"}).encode(), 500
        self.send_response(code_)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


def test_lambda_bridge(api):
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _FakeCargoLambda)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        lam = api.client("lambda")
        role = make_role(api.iam(), "lambda-exec")
        for name in ("ok-fn", "err-fn", "raw-fn"):
            lam.create_function(FunctionName=name, Runtime="provided.al2023", Role=role,
                                Handler="bootstrap", Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18})
        # without a bridge: moto's default behaviour
        plain = lam.invoke(FunctionName="ok-fn", Payload=b'{"a": 1}')
        assert "FunctionError" not in plain
        api.config(lambda_bridge_url=f"http://127.0.0.1:{srv.server_address[1]}")
        ok = lam.invoke(FunctionName="ok-fn", Payload=b'{"a": 1}')
        assert ok["StatusCode"] == 200 and "FunctionError" not in ok
        assert json.loads(ok["Payload"].read()) == {"echo": {"a": 1}, "fn": "ok-fn"}
        err = lam.invoke(FunctionName="err-fn", Payload=b"{}")
        assert err["FunctionError"] == "Unhandled"
        assert json.loads(err["Payload"].read()) == {"errorType": "InvalidInput", "errorMessage": "bad arn"}
        raw = lam.invoke(FunctionName="raw-fn", Payload=b"{}")
        assert raw["FunctionError"] == "Unhandled"
        assert json.loads(raw["Payload"].read()) == {"errorType": "Lambda.Unknown", "errorMessage": "kaboom"}
    finally:
        srv.shutdown()


def test_step_functions_catch_sees_handler_error_type(api):
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _FakeCargoLambda)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        api.config(lambda_bridge_url=f"http://127.0.0.1:{srv.server_address[1]}")
        lam, sfn = api.client("lambda"), api.client("stepfunctions")
        role = make_role(api.iam(), "sfn-exec")
        fn = lam.create_function(FunctionName="err-fn", Runtime="provided.al2023", Role=role,
                                 Handler="bootstrap", Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18})
        definition = {
            "StartAt": "Call",
            "States": {
                "Call": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                         "Parameters": {"FunctionName": fn["FunctionArn"], "Payload.$": "$"},
                         "Catch": [{"ErrorEquals": ["InvalidInput"], "ResultPath": "$.err", "Next": "Caught"}],
                         "End": True},
                "Caught": {"Type": "Pass", "End": True},
            },
        }
        sm = sfn.create_state_machine(name="bridge-sm", definition=json.dumps(definition), roleArn=role)
        ex = sfn.start_execution(stateMachineArn=sm["stateMachineArn"], input="{}")
        deadline = time.time() + 20
        while True:
            desc = sfn.describe_execution(executionArn=ex["executionArn"])
            if desc["status"] != "RUNNING" or time.time() > deadline:
                break
            time.sleep(0.2)
        assert desc["status"] == "SUCCEEDED", desc
        assert json.loads(desc["output"])["err"]["Error"] == "InvalidInput"
    finally:
        srv.shutdown()


def test_a_re_created_principal_starts_with_no_activity(api):
    """A role or user deleted and created again under the same name is a new principal
    with a new unique id (IAM User Guide, IAM identifiers, Unique identifiers), with no
    last use of the old one."""
    iam = api.iam()
    arn = make_role(iam, "replaced", "s3:GetObject")
    kept = make_role(iam, "kept", "s3:GetObject")
    user = make_user(iam, "bob", "s3:GetObject")
    old_id = iam.get_role(RoleName="replaced")["Role"]["RoleId"]
    api.activity([{"entity": e, "service": "s3", "at": ago(days=3)} for e in (arn, kept, user)])
    assert report(iam, arn)[1]["s3"]["LastAuthenticatedEntity"] == arn
    assert iam.get_role(RoleName="replaced")["Role"]["RoleLastUsed"]["LastUsedDate"]

    iam.delete_role_policy(RoleName="replaced", PolicyName="replaced-inline")
    iam.delete_role(RoleName="replaced")
    assert make_role(iam, "replaced", "s3:GetObject") == arn
    iam.delete_user_policy(UserName="bob", PolicyName="bob-inline")
    iam.delete_user(UserName="bob")
    make_user(iam, "bob", "s3:GetObject")
    new_id = iam.get_role(RoleName="replaced")["Role"]["RoleId"]
    assert new_id != old_id, "moto gives the new role a new RoleId"

    for principal in (arn, user):
        s3 = report(iam, principal)[1]["s3"]
        assert "LastAuthenticated" not in s3 and s3["TotalAuthenticatedEntities"] == 0, s3
    assert iam.get_role(RoleName="replaced")["Role"]["RoleLastUsed"] == {}
    assert report(iam, kept)[1]["s3"]["LastAuthenticatedEntity"] == kept, "its neighbour keeps its own"
    # Activity seeded now is the new role's.
    api.activity([{"entity": arn, "service": "s3", "at": ago(days=1)}])
    assert report(iam, arn)[1]["s3"]["LastAuthenticated"] == NOW - timedelta(days=1)


def test_access_advisor_lags_behind_role_last_used(api):
    """advisor_lag_seconds: a use reaches access-advisor jobs only after the lag, while
    RoleLastUsed sees it at once ("Recent activity usually appears within four hours")."""
    iam = api.iam()
    arn = make_role(iam, "lagged", "s3:GetObject")
    api.activity([{"entity": arn, "service": "s3", "at": ago(hours=1)}])
    assert api.control("config", {"advisor_lag_seconds": 4 * 3600}).status_code == 200
    try:
        s3 = report(iam, arn)[1]["s3"]
        assert "LastAuthenticated" not in s3, "not in access advisor yet"
        assert iam.get_role(RoleName="lagged")["Role"]["RoleLastUsed"]["LastUsedDate"], "RoleLastUsed has it"
        api.activity([{"entity": arn, "service": "s3", "at": ago(hours=5)}])
        assert report(iam, arn)[1]["s3"]["LastAuthenticated"] == NOW - timedelta(hours=5)
        for bad in (-1, 86401, True, "4h"):
            assert api.control("config", {"advisor_lag_seconds": bad}).status_code == 400, bad
    finally:
        api.control("config", {"advisor_lag_seconds": 0})
