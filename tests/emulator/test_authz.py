"""IAM enforcement (server.py --enforce-iam): SigV4, identity policies, role trust,
Lambda/Step Functions credentials, the `deny` config and the /authz statistics."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import HERE, REGION, Api, running_emulator

ACCT = "123456789012"
ADMIN_ARN = f"arn:aws:iam::{ACCT}:user/local-admin"
ZIP = b"PK\x05\x06" + b"\x00" * 18


@pytest.fixture(scope="module")
def emulator_url():
    """An emulator with --enforce-iam (overrides conftest's plain one for this module)."""
    with running_emulator("--enforce-iam") as (url, seen):
        assert any("IAM enforcement on" in s for s in seen), seen
        yield url


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource="*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def trust(principal):
    return doc({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"})


ROOT_TRUST = trust({"AWS": f"arn:aws:iam::{ACCT}:root"})


def err(exc: ClientError):
    return (exc.response["Error"]["Code"], exc.response["Error"].get("Message"),
            exc.response["ResponseMetadata"]["HTTPStatusCode"])


def denied(caller, action, resource, why=None, quoted=False):
    shown = f'"{resource}"' if quoted else resource
    why = why or f"because no identity-based policy allows the {action} action"
    return f"User: {caller} is not authorized to perform: {action} on resource: {shown} {why}"


def make_role(iam, name, *statements, path="/", trust_doc=ROOT_TRUST):
    arn = iam.create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=trust_doc)["Role"]["Arn"]
    if statements:
        iam.put_role_policy(RoleName=name, PolicyName=f"{name}-policy", PolicyDocument=doc(*statements))
    return arn


def session(api, role_arn, name="sess", creds=None):
    sts = api.client("sts", creds=creds)
    c = sts.assume_role(RoleArn=role_arn, RoleSessionName=name)["Credentials"]
    return {"aws_access_key_id": c["AccessKeyId"], "aws_secret_access_key": c["SecretAccessKey"],
            "aws_session_token": c["SessionToken"]}


def authz(api):
    r = api.control("authz", method="GET")
    assert r.status_code == 200, r.text
    return r.json()


# ------------------------------------------------------------------ authentication
def test_admin_is_allowed_and_named(api):
    assert api.client("sts").get_caller_identity()["Arn"] == ADMIN_ARN
    users = [u["UserName"] for u in api.iam().list_users()["Users"]]
    assert "local-admin" in users
    api.client("s3").create_bucket(Bucket="admin-bucket")


def test_bad_signature_is_rejected(api):
    wrong = {"aws_access_key_id": "testing", "aws_secret_access_key": "not-the-secret"}
    with pytest.raises(ClientError) as e:
        api.iam(creds=wrong).list_users()
    assert err(e.value)[0] == "SignatureDoesNotMatch" and err(e.value)[2] == 403
    with pytest.raises(ClientError) as e:
        api.client("s3", creds=wrong).list_buckets()
    assert err(e.value)[0] == "SignatureDoesNotMatch"
    with pytest.raises(ClientError) as e:
        api.client("stepfunctions", creds=wrong, retries=1).list_state_machines()
    assert err(e.value)[0] == "InvalidSignatureException"


def test_unknown_key_is_rejected(api):
    unknown = {"aws_access_key_id": "AKIAUNKNOWNKEY000000", "aws_secret_access_key": "x"}
    with pytest.raises(ClientError) as e:
        api.iam(creds=unknown).list_users()
    assert err(e.value)[:1] == ("InvalidClientTokenId",) and err(e.value)[2] == 403
    with pytest.raises(ClientError) as e:
        api.client("s3", creds=unknown).list_buckets()
    assert err(e.value)[0] == "InvalidAccessKeyId"
    with pytest.raises(ClientError) as e:
        api.client("lambda", creds=unknown, retries=1).list_functions()
    assert err(e.value)[0] == "UnrecognizedClientException"


def test_unsigned_and_wrong_token_are_rejected(api):
    r = requests.post(api.url + "/", data={"Action": "ListUsers", "Version": "2010-05-08"}, timeout=10)
    assert r.status_code == 403 and "<Code>MissingAuthenticationToken</Code>" in r.text
    role = make_role(api.iam(), "tok", allow("iam:ListRoles"))
    creds = session(api, role)
    creds["aws_session_token"] = "forged"
    with pytest.raises(ClientError) as e:
        api.iam(creds=creds).list_roles()
    assert err(e.value)[0] == "InvalidClientTokenId"


def test_presigned_url(api):
    s3 = boto3.client(
        "s3", region_name=REGION, endpoint_url=api.url, config=Config(signature_version="s3v4"),
        aws_access_key_id="testing", aws_secret_access_key="testing")
    s3.create_bucket(Bucket="presigned")
    s3.put_object(Bucket="presigned", Key="dir/a b.txt", Body=b"hello")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "presigned", "Key": "dir/a b.txt"},
                                    ExpiresIn=300)
    assert requests.get(url, timeout=10).content == b"hello"
    tampered = url.replace("a%20b.txt", "other.txt")
    r = requests.get(tampered, timeout=10)
    assert r.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in r.text
    sigv2 = api.client("s3").generate_presigned_url(  # boto3's default S3 presigning: SigV2
        "get_object", Params={"Bucket": "presigned", "Key": "dir/a b.txt"})
    if "AWSAccessKeyId=" in sigv2:
        r = requests.get(sigv2, timeout=10)
        assert r.status_code == 400 and "<Code>InvalidRequest</Code>" in r.text


# ------------------------------------------------------------------- authorization
def test_resource_scoped_role_policy(api):
    iam, s3 = api.iam(), api.client("s3")
    s3.create_bucket(Bucket="reports")
    s3.put_object(Bucket="reports", Key="work/a.json", Body=b"{}")
    s3.put_object(Bucket="reports", Key="secret/b.json", Body=b"{}")
    role = make_role(iam, "reader", allow("s3:GetObject", "arn:aws:s3:::reports/work/*"),
                     allow(["iam:ListRoleTags", "iam:GenerateServiceLastAccessedDetails"],
                           f"arn:aws:iam::{ACCT}:role/app/*"), path="/svc/")
    target = make_role(iam, "target", path="/app/")
    other = make_role(iam, "other")
    creds = session(api, role)
    caller = f"arn:aws:sts::{ACCT}:assumed-role/reader/sess"
    rs3, riam = api.client("s3", creds=creds), api.iam(creds=creds)
    assert rs3.get_object(Bucket="reports", Key="work/a.json")["Body"].read() == b"{}"
    with pytest.raises(ClientError) as e:
        rs3.get_object(Bucket="reports", Key="secret/b.json")
    assert err(e.value) == ("AccessDenied", denied(caller, "s3:GetObject", "arn:aws:s3:::reports/secret/b.json",
                                                   quoted=True), 403)
    assert riam.list_role_tags(RoleName="target")["Tags"] == []
    assert riam.generate_service_last_accessed_details(Arn=target)["JobId"]
    with pytest.raises(ClientError) as e:
        riam.generate_service_last_accessed_details(Arn=other)
    assert err(e.value) == ("AccessDenied", denied(caller, "iam:GenerateServiceLastAccessedDetails", other), 403)
    with pytest.raises(ClientError) as e:
        riam.list_role_tags(RoleName="other")
    assert err(e.value)[2] == 403 and "iam:ListRoleTags on resource: " + other in err(e.value)[1]
    with pytest.raises(ClientError) as e:
        riam.list_roles()
    assert err(e.value)[1] == denied(caller, "iam:ListRoles", "*")
    with pytest.raises(ClientError) as e:
        api.client("stepfunctions", creds=creds, retries=1).list_state_machines()
    assert err(e.value)[0] == "AccessDeniedException"
    assert err(e.value)[1] == denied(caller, "states:ListStateMachines", "*")
    assert role.endswith("role/svc/reader")


def test_explicit_deny_wins(api):
    iam = api.iam()
    api.client("s3").create_bucket(Bucket="deny-bucket")
    role = make_role(iam, "denied", allow("*"),
                     {"Effect": "Deny", "Action": "s3:Put*", "Resource": "arn:aws:s3:::deny-bucket/*"})
    creds = session(api, role)
    rs3 = api.client("s3", creds=creds)
    with pytest.raises(ClientError) as e:
        rs3.put_object(Bucket="deny-bucket", Key="k", Body=b"x")
    caller = f"arn:aws:sts::{ACCT}:assumed-role/denied/sess"
    assert err(e.value) == ("AccessDenied", denied(
        caller, "s3:PutObject", "arn:aws:s3:::deny-bucket/k",
        why="with an explicit deny in an identity-based policy", quoted=True), 403)
    assert rs3.list_objects_v2(Bucket="deny-bucket")["KeyCount"] == 0  # the Allow * still works


def test_not_action_and_not_resource(api):
    iam = api.iam()
    api.client("s3").create_bucket(Bucket="na-bucket")
    role = make_role(iam, "notaction", {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
                     {"Effect": "Deny", "Action": "s3:*", "NotResource": "arn:aws:s3:::na-bucket*"})
    creds = session(api, role)
    api.client("s3", creds=creds).put_object(Bucket="na-bucket", Key="k", Body=b"x")
    with pytest.raises(ClientError) as e:
        api.client("s3", creds=creds).list_buckets()  # resource "*" is not na-bucket*
    assert "with an explicit deny in an identity-based policy" in err(e.value)[1]
    with pytest.raises(ClientError) as e:
        api.iam(creds=creds).list_users()
    assert err(e.value)[0] == "AccessDenied"


def test_s3_prefix_condition(api):
    s3 = api.client("s3")
    s3.create_bucket(Bucket="prefix-bucket")
    role = make_role(api.iam(), "lister", allow("s3:ListBucket", "arn:aws:s3:::prefix-bucket",
                                                Condition={"StringLike": {"s3:prefix": "work/*"}}))
    rs3 = api.client("s3", creds=session(api, role))
    assert rs3.list_objects_v2(Bucket="prefix-bucket", Prefix="work/run=1/")["KeyCount"] == 0
    for kw in ({}, {"Prefix": "reports/"}):
        with pytest.raises(ClientError) as e:
            rs3.list_objects_v2(Bucket="prefix-bucket", **kw)
        assert err(e.value)[0] == "AccessDenied"


def test_group_policies_apply_to_users(api):
    iam = api.iam()
    iam.create_user(UserName="alice")
    iam.create_group(GroupName="readers")
    iam.add_user_to_group(GroupName="readers", UserName="alice")
    policy = iam.create_policy(PolicyName="list-roles", PolicyDocument=doc(allow("iam:ListRoles")))["Policy"]["Arn"]
    iam.attach_group_policy(GroupName="readers", PolicyArn=policy)
    key = iam.create_access_key(UserName="alice")["AccessKey"]
    creds = {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}
    alice = api.iam(creds=creds)
    alice.list_roles()
    assert api.client("sts", creds=creds).get_caller_identity()["Arn"] == f"arn:aws:iam::{ACCT}:user/alice"
    with pytest.raises(ClientError) as e:
        alice.list_users()
    assert err(e.value)[1] == denied(f"arn:aws:iam::{ACCT}:user/alice", "iam:ListUsers", "*")


def test_last_used_and_credential_report_actions(api):
    """Service Authorization Reference: GetAccessKeyLastUsed and GetUser act on a user (the
    key's owner; without UserName the caller), the credential report calls on `*`."""
    iam = api.iam()
    alice_arn = iam.create_user(UserName="alice")["User"]["Arn"]
    bob_arn = iam.create_user(UserName="bob")["User"]["Arn"]
    bob_key = iam.create_access_key(UserName="bob")["AccessKey"]["AccessKeyId"]
    iam.put_user_policy(UserName="alice", PolicyName="self", PolicyDocument=doc(
        allow(["iam:GetAccessKeyLastUsed", "iam:GetUser"], "arn:aws:iam::*:user/${aws:username}"),
        allow("iam:GenerateCredentialReport")))
    key = iam.create_access_key(UserName="alice")["AccessKey"]
    alice = api.iam(creds={"aws_access_key_id": key["AccessKeyId"],
                           "aws_secret_access_key": key["SecretAccessKey"]})
    assert alice.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])["UserName"] == "alice"
    assert alice.get_user()["User"]["Arn"] == alice_arn
    with pytest.raises(ClientError) as e:
        alice.get_access_key_last_used(AccessKeyId=bob_key)
    assert err(e.value) == ("AccessDenied", denied(alice_arn, "iam:GetAccessKeyLastUsed", bob_arn), 403)
    with pytest.raises(ClientError) as e:
        alice.get_user(UserName="bob")
    assert err(e.value)[1] == denied(alice_arn, "iam:GetUser", bob_arn)
    assert alice.generate_credential_report()["State"] in ("STARTED", "INPROGRESS", "COMPLETE")
    with pytest.raises(ClientError) as e:
        alice.get_credential_report()
    assert err(e.value) == ("AccessDenied", denied(alice_arn, "iam:GetCredentialReport", "*"), 403)
    resources = authz(api)["resources"][alice_arn]
    assert resources["iam:GetUser"] == [alice_arn]
    assert resources["iam:GenerateCredentialReport"] == ["*"]


# ------------------------------------------------------------------------ trust
def test_assume_role_allowed_and_denied_by_trust(api):
    iam = api.iam()
    caller_role = make_role(iam, "caller", allow("iam:ListRoles"), path="/fn/")
    # names the caller's role: enough on its own in the same account (no identity policy)
    named = make_role(iam, "named", allow("iam:ListUsers"), trust_doc=trust({"AWS": caller_role}))
    # trusts the account: the caller's identity policy must allow sts:AssumeRole too
    by_account = make_role(iam, "by-account")
    # trusts someone else
    stranger = make_role(iam, "stranger", trust_doc=trust({"AWS": f"arn:aws:iam::{ACCT}:role/nobody"}))
    creds = session(api, caller_role, name="fn-session")
    caller = f"arn:aws:sts::{ACCT}:assumed-role/caller/fn-session"
    sts = api.client("sts", creds=creds)
    inner = sts.assume_role(RoleArn=named, RoleSessionName="inner")["Credentials"]
    assert inner["AccessKeyId"].startswith("ASIA")
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=by_account, RoleSessionName="x1")
    assert err(e.value) == ("AccessDenied", denied(caller, "sts:AssumeRole", by_account), 403)
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=stranger, RoleSessionName="x2")
    assert err(e.value)[1] == denied(caller, "sts:AssumeRole", stranger,
                                     why="because no resource-based policy allows the sts:AssumeRole action")
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=f"arn:aws:iam::{ACCT}:role/missing", RoleSessionName="x3")
    assert err(e.value)[0] == "AccessDenied"
    # the admin's identity policy allows sts:AssumeRole: the account-trusting role works
    api.client("sts").assume_role(RoleArn=by_account, RoleSessionName="admin")


def test_assume_role_trust_conditions(api):
    iam = api.iam()
    cond_trust = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCT}:root"},
                      "Action": "sts:AssumeRole",
                      "Condition": {"StringEquals": {"sts:ExternalId": "secret"}}})
    role = make_role(iam, "external", trust_doc=cond_trust)
    sts = api.client("sts")
    with pytest.raises(ClientError):
        sts.assume_role(RoleArn=role, RoleSessionName="no-external-id")
    sts.assume_role(RoleArn=role, RoleSessionName="with-id", ExternalId="secret")


# --------------------------------------------------------------- Lambda credentials
def test_lambda_credentials_endpoint(api, tmp_path):
    iam, lam = api.iam(), api.client("lambda")
    role = make_role(iam, "fn-role", allow("iam:ListRoles"),
                     trust_doc=trust({"Service": "lambda.amazonaws.com"}))
    not_lambda = make_role(iam, "sfn-only", trust_doc=trust({"Service": "states.amazonaws.com"}))
    fn = lam.create_function(FunctionName="scan-plan", Runtime="provided.al2023", Role=role,
                             Handler="bootstrap", Code={"ZipFile": ZIP})
    lam.create_function(FunctionName="wrong-role", Runtime="provided.al2023", Role=not_lambda,
                        Handler="bootstrap", Code={"ZipFile": ZIP})
    for ref in ("scan-plan", fn["FunctionArn"]):
        r = api.control("lambda-credentials", {"function": ref})
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) == {"Version", "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"}
        assert body["Version"] == 1 and body["Expiration"].endswith("Z")
    creds = {"aws_access_key_id": body["AccessKeyId"], "aws_secret_access_key": body["SecretAccessKey"],
             "aws_session_token": body["SessionToken"]}
    assert api.client("sts", creds=creds).get_caller_identity()["Arn"] == \
        f"arn:aws:sts::{ACCT}:assumed-role/fn-role/scan-plan"
    api.iam(creds=creds).list_roles()
    with pytest.raises(ClientError):
        api.iam(creds=creds).list_users()
    assert api.control("lambda-credentials", {"function": "wrong-role"}).status_code == 403
    assert api.control("lambda-credentials", {"function": "nope"}).status_code == 404
    assert api.control("lambda-credentials", {"fn": "x"}).status_code == 400

    # credential_process.py through an AWS config file, as the local stack wires it
    sys.path.insert(0, HERE)
    from lambda_credentials import config_file_env

    env = config_file_env("scan-plan", str(tmp_path), sys.executable)
    assert open(env["AWS_CONFIG_FILE"]).read().startswith("[default]\ncredential_process = ")
    old = {k: os.environ.get(k) for k in list(env) + ["EMULATOR_URL", "AWS_ACCESS_KEY_ID",
                                                      "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]}
    try:
        for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            os.environ.pop(k, None)
        os.environ.update(env)
        os.environ["EMULATOR_URL"] = api.url
        sess = boto3.session.Session(region_name=REGION)
        assert sess.get_credentials().method == "custom-process"
        ident = sess.client("sts", endpoint_url=api.url).get_caller_identity()
        assert ident["Arn"] == f"arn:aws:sts::{ACCT}:assumed-role/fn-role/scan-plan"
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    out = subprocess.run([sys.executable, os.path.join(HERE, "credential_process.py"), "nope"],
                         env=dict(os.environ, EMULATOR_URL=api.url), capture_output=True, text=True)
    assert out.returncode == 1 and "404" in out.stderr


# ------------------------------------------------------------ Step Functions engine
def _run(sfn, sm_arn):
    ex = sfn.start_execution(stateMachineArn=sm_arn, input="{}")
    deadline = time.time() + 30
    while True:
        desc = sfn.describe_execution(executionArn=ex["executionArn"])
        if desc["status"] != "RUNNING" or time.time() > deadline:
            return desc
        time.sleep(0.2)


def test_state_machine_calls_use_its_role(api):
    iam, lam, sfn = api.iam(), api.client("lambda"), api.client("stepfunctions")
    fn_role = make_role(iam, "fn", trust_doc=trust({"Service": "lambda.amazonaws.com"}))
    fn = lam.create_function(FunctionName="step", Runtime="provided.al2023", Role=fn_role,
                             Handler="bootstrap", Code={"ZipFile": ZIP})["FunctionArn"]
    definition = json.dumps({"StartAt": "Call", "States": {"Call": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": fn, "Payload.$": "$"}, "End": True}}})
    states_trust = trust({"Service": "states.amazonaws.com"})
    allowed = make_role(iam, "sm-allowed", allow("lambda:InvokeFunction", [fn, fn + ":*"]),
                        trust_doc=states_trust)
    no_policy = make_role(iam, "sm-no-policy", trust_doc=states_trust)
    untrusted = make_role(iam, "sm-untrusted", allow("lambda:InvokeFunction"),
                          trust_doc=trust({"Service": "lambda.amazonaws.com"}))
    results = {}
    for role in (allowed, no_policy, untrusted):
        name = role.split("/")[-1]
        sm = sfn.create_state_machine(name=name, definition=definition, roleArn=role)["stateMachineArn"]
        results[name] = _run(sfn, sm)
    assert results["sm-allowed"]["status"] == "SUCCEEDED", results["sm-allowed"]
    assert results["sm-no-policy"]["status"] == "FAILED"
    assert results["sm-untrusted"]["status"] == "FAILED"
    stats = authz(api)
    assert stats["allowed"][allowed]["lambda:InvokeFunction"] == 1
    assert any(d["principal"] == no_policy and d["action"] == "lambda:InvokeFunction"
               for d in stats["denied"])
    assert any(d["principal"] == "states.amazonaws.com" and d["resource"] == untrusted
               for d in stats["denied"])


# ------------------------------------------------------------------- deny config
def test_deny_config_makes_generate_access_denied(api):
    iam = api.iam()
    target = make_role(iam, "scp-protected")
    free = make_role(iam, "scp-free")
    api.config(deny=[target])
    with pytest.raises(ClientError) as e:
        iam.generate_service_last_accessed_details(Arn=target)
    assert err(e.value) == ("AccessDenied", denied(
        ADMIN_ARN, "iam:GenerateServiceLastAccessedDetails", target,
        why="with an explicit deny in a service control policy"), 403)
    assert iam.generate_service_last_accessed_details(Arn=free)["JobId"]
    # a role session is named as the session
    reader = make_role(iam, "scp-reader", allow("iam:GenerateServiceLastAccessedDetails"))
    with pytest.raises(ClientError) as e:
        api.iam(creds=session(api, reader, name="run")).generate_service_last_accessed_details(Arn=target)
    assert err(e.value)[1].startswith(f"User: arn:aws:sts::{ACCT}:assumed-role/scp-reader/run is not")


# --------------------------------------------------------------------- statistics
def test_authz_stats_and_reset(api):
    iam = api.iam()
    role = make_role(iam, "counted", allow(["iam:ListRoles", "iam:ListRoleTags"]), path="/p/")
    riam = api.iam(creds=session(api, role))
    riam.list_roles()
    riam.list_roles()
    riam.list_role_tags(RoleName="counted")
    with pytest.raises(ClientError):
        riam.list_users()
    stats = authz(api)
    assert stats["enforced"] is True
    assert stats["allowed"][role] == {"iam:ListRoles": 2, "iam:ListRoleTags": 1}
    assert stats["resources"][role]["iam:ListRoleTags"] == [role]
    assert stats["allowed"][ADMIN_ARN]["sts:AssumeRole"] >= 1
    assert stats["denied"] == [{"principal": role, "action": "iam:ListUsers", "resource": "*",
                                "message": denied(f"arn:aws:sts::{ACCT}:assumed-role/counted/sess",
                                                  "iam:ListUsers", "*")}]
    assert requests.post(api.url + "/moto-api/reset", timeout=10).status_code == 200
    assert authz(api) == {"enforced": True, "allowed": {}, "resources": {}, "denied": []}
    api.iam().list_users()  # the administrator survives the reset


# ------------------------------------------------------------------ evaluator units
def test_condition_operators():
    sys.path.insert(0, HERE)
    from access_advisor import authz as a

    ctx = {"aws:securetransport": ["false"], "aws:sourcearn": ["arn:aws:cloudwatch:us-east-1:1:alarm:x"]}
    assert a.conditions_ok({"Bool": {"aws:SecureTransport": "false"}}, ctx)
    assert not a.conditions_ok({"Bool": {"aws:SecureTransport": True}}, ctx)
    assert a.conditions_ok({"ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:us-east-1:1:alarm:*"}}, ctx)
    assert not a.conditions_ok({"ArnEquals": {"aws:SourceArn": "arn:aws:cloudwatch:us-east-1:1:alarm:y"}}, ctx)
    # a missing key: positive operators are false, negated ones and ...IfExists true
    assert not a.conditions_ok({"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}, ctx)
    assert not a.conditions_ok({"StringLike": {"s3:prefix": "*"}}, ctx)
    assert a.conditions_ok({"StringNotEquals": {"aws:SourceAccount": "1"}}, ctx)
    assert a.conditions_ok({"StringEqualsIfExists": {"aws:SourceAccount": "1"}}, ctx)
    assert a.conditions_ok({"Null": {"aws:SourceAccount": "true"}}, ctx)
    assert a.action_matches("S3:get*", "s3:GetObject") and not a.action_matches("s3:Get?", "s3:GetObject")
    assert a.resource_matches("arn:aws:s3:::b/work/*", "arn:aws:s3:::b/work/x/y", {})
    assert not a.resource_matches("arn:aws:s3:::B/*", "arn:aws:s3:::b/x", {})


def test_a_cloudformation_bucket_policy_is_evaluated_with_the_requests_context(api):
    """IAM User Guide, Policy evaluation logic: an explicit deny in a resource-based policy
    wins over any identity-based allow; a resource-based allow naming the caller suffices
    in one account. The plain-HTTP endpoint counts as TLS unless the request says it is
    not (X-Emulator-Insecure-Transport: true)."""
    iam = api.iam()
    reader = make_role(iam, "bucket-reader", allow(["s3:GetObject", "s3:PutObject"]))
    named = make_role(iam, "bucket-named")
    kept = make_role(iam, "bucket-kept", allow("s3:GetObject"))
    template = {"Resources": {
        "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "guarded"}},
        "Policy": {"Type": "AWS::S3::BucketPolicy", "Properties": {
            "Bucket": {"Ref": "Bucket"}, "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::guarded/*",
                 "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
                {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
                 "Resource": "arn:aws:s3:::guarded/private/*",
                 "Condition": {"ArnNotEquals": {"aws:PrincipalArn": kept}}},
                {"Effect": "Allow", "Principal": {"AWS": named}, "Action": "s3:GetObject",
                 "Resource": "arn:aws:s3:::guarded/open/*"}]}}}}}
    cfn = api.client("cloudformation")
    cfn.create_stack(StackName="guarded", TemplateBody=json.dumps(template))
    assert cfn.describe_stacks(StackName="guarded")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    s3 = api.client("s3")
    for key in ("private/p.json", "open/o.json"):
        s3.put_object(Bucket="guarded", Key=key, Body=b"{}")
    as_reader = api.client("s3", creds=session(api, reader))
    assert as_reader.get_object(Bucket="guarded", Key="open/o.json")["Body"].read() == b"{}"
    with pytest.raises(ClientError) as e:
        as_reader.get_object(Bucket="guarded", Key="private/p.json")
    caller = f"arn:aws:sts::{ACCT}:assumed-role/bucket-reader/sess"
    assert err(e.value) == ("AccessDenied", denied(
        caller, "s3:GetObject", "arn:aws:s3:::guarded/private/p.json",
        "with an explicit deny in a resource-based policy", quoted=True), 403)
    as_kept = api.client("s3", creds=session(api, kept))
    assert as_kept.get_object(Bucket="guarded", Key="private/p.json")["Body"].read() == b"{}"
    # No identity policy, but the bucket policy names it.
    as_named = api.client("s3", creds=session(api, named))
    assert as_named.get_object(Bucket="guarded", Key="open/o.json")["Body"].read() == b"{}"
    # The TLS-only statement: a request that says it came over plain HTTP is refused.
    plain = api.client("s3")
    plain.meta.events.register("before-sign.s3.*", lambda request, **_: request.headers.__setitem__(
        "X-Emulator-Insecure-Transport", "true"))
    with pytest.raises(ClientError) as e:
        plain.get_object(Bucket="guarded", Key="open/o.json")
    assert err(e.value)[0] == "AccessDenied" and "explicit deny in a resource-based policy" in err(e.value)[1]
