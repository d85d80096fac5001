"""AWS Organizations (access_advisor/organizations.py), cross-account requests, the
organization condition keys of IAM enforcement (authz.py) and IAM's Organizations access
report (org_reports.py), against an emulator with --enforce-iam."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests
from botocore.exceptions import ClientError

from conftest import running_emulator

MGMT = "123456789012"
ADMIN_ARN = f"arn:aws:iam::{MGMT}:user/local-admin"
ACCESS_ROLE = "OrganizationAccountAccessRole"
OUTSIDE = "210987654321"


@pytest.fixture(scope="module")
def emulator_url():
    """An emulator with --enforce-iam (overrides conftest's plain one for this module)."""
    with running_emulator("--enforce-iam") as (url, _):
        yield url


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource="*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def trust(principal, **extra):
    return doc({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole", **extra})


def err(exc: ClientError):
    return (exc.response["Error"]["Code"], exc.response["Error"].get("Message"),
            exc.response["ResponseMetadata"]["HTTPStatusCode"])


def denied(caller, action, resource, why=None):
    why = why or f"because no identity-based policy allows the {action} action"
    return f"User: {caller} is not authorized to perform: {action} on resource: {resource} {why}"


def ago(days=0.0, hours=0.0):
    t = datetime.now(timezone.utc) - timedelta(days=days, hours=hours)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def creds_of(c):
    return {"aws_access_key_id": c["AccessKeyId"], "aws_secret_access_key": c["SecretAccessKey"],
            "aws_session_token": c["SessionToken"]}


def session(api, role_arn, name="sess", creds=None):
    c = api.client("sts", creds=creds).assume_role(RoleArn=role_arn, RoleSessionName=name)
    return creds_of(c["Credentials"])


class Org:
    """An organization whose management account is 123456789012: root, an OU `prod` with
    member account `a` in it, member account `b` directly under the root."""

    def __init__(self, api):
        self.api = api
        org = api.client("organizations")
        self.org = org.create_organization(FeatureSet="ALL")["Organization"]
        self.id = self.org["Id"]
        self.root = org.list_roots()["Roots"][0]["Id"]
        self.ou = org.create_organizational_unit(ParentId=self.root, Name="prod")["OrganizationalUnit"]["Id"]
        self.status = {}
        for name in ("a", "b"):
            st = org.create_account(AccountName=name, Email=f"{name}@example.com")["CreateAccountStatus"]
            self.status[name] = st
        self.a = self.status["a"]["AccountId"]
        self.b = self.status["b"]["AccountId"]
        org.move_account(AccountId=self.a, SourceParentId=self.root, DestinationParentId=self.ou)

    def path(self, *parts):
        return "/".join([self.id, self.root, *parts])

    def admin(self, account, name="admin"):
        """A session of the account's OrganizationAccountAccessRole, assumed by the admin."""
        return session(self.api, f"arn:aws:iam::{account}:role/{ACCESS_ROLE}", name)


@pytest.fixture
def org(api):
    return Org(api)


def outside_admin(api, account=OUTSIDE):
    r = api.control("accounts", {"account": account})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["Organization"] is None and body["UserArn"] == f"arn:aws:iam::{account}:user/local-admin"
    return {"aws_access_key_id": body["AccessKeyId"], "aws_secret_access_key": body["SecretAccessKey"]}


# ============================================================== Organizations API
def test_organization_calls_from_the_management_account(api, org):
    o = api.client("organizations")
    d = o.describe_organization()["Organization"]
    assert d["Id"] == org.id and d["MasterAccountId"] == MGMT and d["FeatureSet"] == "ALL"
    assert [r["Id"] for r in o.list_roots()["Roots"]] == [org.root]
    accounts = {a["Id"]: a for a in o.list_accounts()["Accounts"]}
    assert set(accounts) == {MGMT, org.a, org.b}
    assert accounts[org.a]["Status"] == "ACTIVE" and accounts[org.a]["State"] == "ACTIVE"
    assert o.describe_account(AccountId=org.b)["Account"]["Name"] == "b"
    assert [u["Id"] for u in o.list_organizational_units_for_parent(ParentId=org.root)["OrganizationalUnits"]] == [org.ou]
    assert [a["Id"] for a in o.list_accounts_for_parent(ParentId=org.ou)["Accounts"]] == [org.a]
    assert {a["Id"] for a in o.list_accounts_for_parent(ParentId=org.root)["Accounts"]} == {MGMT, org.b}
    assert o.list_parents(ChildId=org.a)["Parents"] == [{"Id": org.ou, "Type": "ORGANIZATIONAL_UNIT"}]
    assert o.list_parents(ChildId=org.ou)["Parents"] == [{"Id": org.root, "Type": "ROOT"}]
    st = o.describe_create_account_status(CreateAccountRequestId=org.status["b"]["Id"])["CreateAccountStatus"]
    assert st["State"] == "SUCCEEDED" and st["AccountId"] == org.b
    # pagination (what the scanner's paginators do)
    pages = o.get_paginator("list_accounts").paginate(PaginationConfig={"PageSize": 1})
    assert sorted(a["Id"] for p in pages for a in p["Accounts"]) == sorted([MGMT, org.a, org.b])
    second = o.create_organizational_unit(ParentId=org.root, Name="dev")["OrganizationalUnit"]["Id"]
    pages = o.get_paginator("list_organizational_units_for_parent").paginate(
        ParentId=org.root, PaginationConfig={"PageSize": 1})
    assert sorted(u["Id"] for p in pages for u in p["OrganizationalUnits"]) == sorted([org.ou, second])


def test_member_accounts_may_not_list_the_organization(api, org):
    member = api.client("organizations", creds=org.admin(org.a))
    assert member.describe_organization()["Organization"]["Id"] == org.id  # any member may
    for call in (member.list_accounts, member.list_roots,
                 lambda: member.list_accounts_for_parent(ParentId=org.root),
                 lambda: member.describe_account(AccountId=org.b),
                 lambda: member.create_organizational_unit(ParentId=org.root, Name="x")):
        with pytest.raises(ClientError) as e:
            call()
        assert err(e.value) == ("AccessDeniedException", "You don't have permissions to access this resource.", 400)
    # an account in no organization
    outside = api.client("organizations", creds=outside_admin(api))
    with pytest.raises(ClientError) as e:
        outside.list_accounts()
    assert err(e.value)[0] == "AWSOrganizationsNotInUseException"


def test_delegated_administrator_reads_the_organization(api, org):
    o = api.client("organizations")
    o.register_delegated_administrator(AccountId=org.b, ServicePrincipal="access-analyzer.amazonaws.com")
    delegated = api.client("organizations", creds=org.admin(org.b))
    assert {a["Id"] for a in delegated.list_accounts()["Accounts"]} == {MGMT, org.a, org.b}
    assert [r["Id"] for r in delegated.list_roots()["Roots"]] == [org.root]
    with pytest.raises(ClientError) as e:  # writes stay with the management account
        delegated.create_organizational_unit(ParentId=org.root, Name="x")
    assert err(e.value)[0] == "AccessDeniedException"


def test_closed_account_is_listed_suspended(api, org):
    o = api.client("organizations")
    o.close_account(AccountId=org.b)
    accounts = {a["Id"]: a for a in o.list_accounts()["Accounts"]}
    assert accounts[org.b]["Status"] == "SUSPENDED" and accounts[org.b]["State"] == "SUSPENDED"
    assert o.describe_account(AccountId=org.b)["Account"]["Status"] == "SUSPENDED"


def test_create_account_leaves_an_administrator_access_role(api, org):
    iam_a = api.iam(creds=org.admin(org.a))
    role = iam_a.get_role(RoleName=ACCESS_ROLE)["Role"]
    assert role["Arn"] == f"arn:aws:iam::{org.a}:role/{ACCESS_ROLE}"
    statement = role["AssumeRolePolicyDocument"]["Statement"][0]
    assert statement["Principal"] == {"AWS": f"arn:aws:iam::{MGMT}:root"}
    assert statement["Action"] == "sts:AssumeRole" and statement["Effect"] == "Allow"
    policy = iam_a.get_role_policy(RoleName=ACCESS_ROLE, PolicyName="AdministratorAccess")
    assert policy["PolicyDocument"]["Statement"] == [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
    # RoleName names the role
    o = api.client("organizations")
    c = o.create_account(AccountName="c", Email="c@example.com", RoleName="Admin")["CreateAccountStatus"]
    api.iam(creds=session(api, f"arn:aws:iam::{c['AccountId']}:role/Admin")).list_roles()


# ============================================================== cross-account requests
def test_member_credentials_act_in_the_member_account(api, org):
    creds = org.admin(org.a)
    ident = api.client("sts", creds=creds).get_caller_identity()
    assert ident["Account"] == org.a
    assert ident["Arn"] == f"arn:aws:sts::{org.a}:assumed-role/{ACCESS_ROLE}/admin"
    iam_a = api.iam(creds=creds)
    arn = iam_a.create_role(RoleName="app", Path="/team/", AssumeRolePolicyDocument=trust(
        {"Service": "lambda.amazonaws.com"}))["Role"]["Arn"]
    assert arn == f"arn:aws:iam::{org.a}:role/team/app"
    assert {r["RoleName"] for r in iam_a.list_roles()["Roles"]} == {ACCESS_ROLE, "app"}
    assert "app" not in {r["RoleName"] for r in api.iam().list_roles()["Roles"]}
    # moto's x-moto-account-id header does not move a signed request to another account
    admin = api.iam()

    def other_account(request, **_):
        request.headers["x-moto-account-id"] = org.a
    admin.meta.events.register("before-send.iam.ListRoles", other_account)
    assert "app" not in {r["RoleName"] for r in admin.list_roles()["Roles"]}


def test_cloudformation_in_a_member_account_creates_its_resources_there(api, org):
    creds = org.admin(org.b)
    cfn = api.client("cloudformation", creds=creds)
    template = {"Resources": {"Role": {"Type": "AWS::IAM::Role", "Properties": {
        "RoleName": "stack-role", "Path": "/iam-last-accessed/",
        "AssumeRolePolicyDocument": json.loads(trust({"AWS": f"arn:aws:iam::{MGMT}:root"}))}}},
        "Outputs": {"RoleArn": {"Value": {"Fn::GetAtt": ["Role", "Arn"]}}}}
    cfn.create_stack(StackName="member-stack", TemplateBody=json.dumps(template), Capabilities=["CAPABILITY_NAMED_IAM"])
    stack = cfn.describe_stacks(StackName="member-stack")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert stack["StackId"].split(":")[4] == org.b
    assert stack["Outputs"][0]["OutputValue"] == f"arn:aws:iam::{org.b}:role/iam-last-accessed/stack-role"
    assert api.iam(creds=creds).get_role(RoleName="stack-role")["Role"]["Path"] == "/iam-last-accessed/"
    with pytest.raises(ClientError):
        api.iam().get_role(RoleName="stack-role")  # not in the management account
    with pytest.raises(ClientError):
        api.client("cloudformation").describe_stacks(StackName="member-stack")


def test_access_advisor_jobs_in_a_member_account_are_bound_to_the_caller(api, org):
    role_arn = f"arn:aws:iam::{org.a}:role/{ACCESS_ROLE}"
    api.activity([{"entity": role_arn, "service": "s3", "at": ago(days=2)}])
    creds = org.admin(org.a, name="scanner")
    iam_a = api.iam(creds=creds)
    job = iam_a.generate_service_last_accessed_details(Arn=role_arn)["JobId"]
    got = iam_a.get_service_last_accessed_details(JobId=job, MaxItems=1000)
    s3 = [s for s in got["ServicesLastAccessed"] if s["ServiceNamespace"] == "s3"][0]
    assert s3["LastAuthenticatedEntity"] == role_arn
    with pytest.raises(ClientError) as e:  # another session of the same role
        api.iam(creds=org.admin(org.a, name="other")).get_service_last_accessed_details(JobId=job)
    assert err(e.value)[0] == "NoSuchEntity" and "another identity" in err(e.value)[1]
    with pytest.raises(ClientError) as e:  # the management account does not see it
        api.iam().get_service_last_accessed_details(JobId=job)
    assert err(e.value)[0] == "NoSuchEntity"
    with pytest.raises(ClientError) as e:  # a principal of another account
        iam_a.generate_service_last_accessed_details(Arn=f"arn:aws:iam::{MGMT}:user/local-admin")
    assert err(e.value)[0] == "NoSuchEntity"


def test_throttle_buckets_are_per_account(api, org):
    iam_a = api.iam(creds=org.admin(org.a), retries=1)
    iam_b = api.iam(creds=org.admin(org.b), retries=1)
    api.config(throttle={"rate": 0.01, "burst": 2})
    iam_a.list_roles()
    iam_a.list_roles()
    with pytest.raises(ClientError) as e:
        iam_a.list_roles()
    assert err(e.value)[:2] == ("Throttling", "Rate exceeded")
    iam_b.list_roles()  # account b has its own bucket
    iam_b.list_roles()
    with pytest.raises(ClientError):
        iam_b.list_roles()
    api.config(throttle={"rate": None, "burst": None})


def test_stats_count_iam_calls_per_account(api, org):
    """stats.by_account: each IAM call under the caller's account (the account whose
    throttle bucket it is charged to), throttled calls included; the totals are their sums."""
    iam_a = api.iam(creds=org.admin(org.a), retries=1)
    iam_b = api.iam(creds=org.admin(org.b), retries=1)
    before = api.control("stats", method="GET").json()
    api.config(throttle={"rate": 0.01, "burst": 2})
    iam_a.list_roles()
    iam_a.list_users()
    with pytest.raises(ClientError):
        iam_a.list_roles()  # throttled: counted too
    iam_b.list_roles()
    api.config(throttle={"rate": None, "burst": None})
    api.iam().list_roles()  # the management account's administrator
    after = api.control("stats", method="GET").json()

    def delta(account):
        was = before["by_account"].get(account, {"calls": {}, "throttled": {}, "total_calls": 0, "total_throttled": 0})
        now = after["by_account"][account]
        return ({k: v - was["calls"].get(k, 0) for k, v in now["calls"].items() if v - was["calls"].get(k, 0)},
                {k: v - was["throttled"].get(k, 0) for k, v in now["throttled"].items() if v - was["throttled"].get(k, 0)},
                now["total_calls"] - was["total_calls"], now["total_throttled"] - was["total_throttled"])

    assert delta(org.a) == ({"ListRoles": 2, "ListUsers": 1}, {"ListRoles": 1}, 3, 1)
    assert delta(org.b) == ({"ListRoles": 1}, {}, 1, 0)
    assert delta(MGMT) == ({"ListRoles": 1}, {}, 1, 0)
    assert after["total_calls"] == sum(a["total_calls"] for a in after["by_account"].values())
    assert after["total_throttled"] == sum(a["total_throttled"] for a in after["by_account"].values())
    for action, n in after["calls"].items():
        assert n == sum(a["calls"].get(action, 0) for a in after["by_account"].values())


def test_cross_account_assume_role_needs_identity_policy_and_trust(api, org):
    """A scanner role of the management account (path /iam-last-accessed/) assumes a member
    role that trusts the management account's root with a PrincipalArn condition."""
    iam = api.iam()
    member_role = f"arn:aws:iam::{org.a}:role/iam-last-accessed-member"
    scan_trust = trust({"AWS": f"arn:aws:iam::{MGMT}:root"}, Condition={
        "ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{MGMT}:role/iam-last-accessed/*"}})
    iam_a = api.iam(creds=org.admin(org.a))
    iam_a.create_role(RoleName="iam-last-accessed-member", AssumeRolePolicyDocument=scan_trust)
    iam_a.put_role_policy(RoleName="iam-last-accessed-member", PolicyName="read",
                          PolicyDocument=doc(allow("iam:ListRoles")))
    mgmt_trust = trust({"AWS": f"arn:aws:iam::{MGMT}:root"})
    for name, path, statements in [
        ("scanner", "/iam-last-accessed/", [allow("sts:AssumeRole", "arn:aws:iam::*:role/iam-last-accessed-member")]),
        ("no-policy", "/iam-last-accessed/", [allow("iam:ListRoles")]),
        ("wrong-path", "/other/", [allow("sts:AssumeRole", "*")]),
    ]:
        iam.create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=mgmt_trust)
        iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=doc(*statements))
    scanner = session(api, f"arn:aws:iam::{MGMT}:role/iam-last-accessed/scanner", "run")
    inner = session(api, member_role, "scan", creds=scanner)
    assert api.client("sts", creds=inner).get_caller_identity()["Arn"] == \
        f"arn:aws:sts::{org.a}:assumed-role/iam-last-accessed-member/scan"
    api.iam(creds=inner).list_roles()
    # trust allows, the identity policy does not: refused
    caller = f"arn:aws:sts::{MGMT}:assumed-role/no-policy/run"
    with pytest.raises(ClientError) as e:
        session(api, member_role, "scan", creds=session(api, f"arn:aws:iam::{MGMT}:role/iam-last-accessed/no-policy", "run"))
    assert err(e.value) == ("AccessDenied", denied(caller, "sts:AssumeRole", member_role), 403)
    # identity allows, the trust condition does not (path /other/): refused
    caller = f"arn:aws:sts::{MGMT}:assumed-role/wrong-path/run"
    with pytest.raises(ClientError) as e:
        session(api, member_role, "scan", creds=session(api, f"arn:aws:iam::{MGMT}:role/other/wrong-path", "run"))
    assert err(e.value) == ("AccessDenied", denied(
        caller, "sts:AssumeRole", member_role,
        "because no resource-based policy allows the sts:AssumeRole action"), 403)
    # a trust policy naming the caller's role itself does not grant alone across accounts
    iam_a.create_role(RoleName="names-the-role", AssumeRolePolicyDocument=trust(
        {"AWS": f"arn:aws:iam::{MGMT}:role/iam-last-accessed/no-policy"}))
    named = f"arn:aws:iam::{org.a}:role/names-the-role"
    no_policy = session(api, f"arn:aws:iam::{MGMT}:role/iam-last-accessed/no-policy", "run")
    with pytest.raises(ClientError) as e:
        session(api, named, "scan", creds=no_policy)
    assert err(e.value) == ("AccessDenied", denied(
        f"arn:aws:sts::{MGMT}:assumed-role/no-policy/run", "sts:AssumeRole", named), 403)
    # a role the member account does not have
    missing = f"arn:aws:iam::{org.b}:role/iam-last-accessed-member"
    with pytest.raises(ClientError) as e:
        session(api, missing, "scan", creds=scanner)
    assert err(e.value) == ("AccessDenied", denied(
        f"arn:aws:sts::{MGMT}:assumed-role/scanner/run", "sts:AssumeRole", missing,
        "because no resource-based policy allows the sts:AssumeRole action"), 403)


# ============================================================== organization condition keys
def test_resource_org_id_condition_limits_assume_role_to_the_organization(api, org):
    iam = api.iam()
    policy = allow("sts:AssumeRole", "arn:aws:iam::*:role/iam-last-accessed-member",
                   Condition={"StringEquals": {"aws:ResourceOrgID": "${aws:PrincipalOrgID}"}})
    iam.create_role(RoleName="scanner", Path="/iam-last-accessed/",
                    AssumeRolePolicyDocument=trust({"AWS": f"arn:aws:iam::{MGMT}:root"}))
    iam.put_role_policy(RoleName="scanner", PolicyName="p", PolicyDocument=doc(policy))
    member_trust = trust({"AWS": f"arn:aws:iam::{MGMT}:root"})
    api.iam(creds=org.admin(org.b)).create_role(RoleName="iam-last-accessed-member",
                                                AssumeRolePolicyDocument=member_trust)
    # the same role in an account outside the organization, made by that account's admin
    api.iam(creds=outside_admin(api)).create_role(RoleName="iam-last-accessed-member",
                                                  AssumeRolePolicyDocument=member_trust)
    scanner = session(api, f"arn:aws:iam::{MGMT}:role/iam-last-accessed/scanner", "run")
    session(api, f"arn:aws:iam::{org.b}:role/iam-last-accessed-member", "in-org", creds=scanner)
    outside_role = f"arn:aws:iam::{OUTSIDE}:role/iam-last-accessed-member"
    with pytest.raises(ClientError) as e:
        session(api, outside_role, "outside", creds=scanner)
    assert err(e.value) == ("AccessDenied", denied(
        f"arn:aws:sts::{MGMT}:assumed-role/scanner/run", "sts:AssumeRole", outside_role), 403)


def test_principal_org_keys_in_trust_and_identity_policies(api, org):
    # a member role trusting any principal of the organization (aws:PrincipalOrgID)
    iam_b = api.iam(creds=org.admin(org.b))
    iam_b.create_role(RoleName="org-wide", AssumeRolePolicyDocument=trust(
        {"AWS": "*"}, Condition={"StringEquals": {"aws:PrincipalOrgID": org.id}}))
    iam_b.put_role_policy(RoleName="org-wide", PolicyName="p", PolicyDocument=doc(allow("iam:ListRoles")))
    role = f"arn:aws:iam::{org.b}:role/org-wide"
    session(api, role, "from-a", creds=org.admin(org.a))  # a member of the organization
    with pytest.raises(ClientError) as e:
        session(api, role, "from-outside", creds=outside_admin(api))
    assert err(e.value)[0] == "AccessDenied"
    # aws:PrincipalOrgPaths: the path of the caller's account's parent
    iam_a = api.iam(creds=org.admin(org.a))
    iam_a.create_role(RoleName="paths", AssumeRolePolicyDocument=trust({"AWS": f"arn:aws:iam::{MGMT}:root"}))
    iam_a.put_role_policy(RoleName="paths", PolicyName="p", PolicyDocument=doc(
        allow("iam:ListRoles", Condition={"ForAnyValue:StringLike": {
            "aws:PrincipalOrgPaths": f"{org.id}/{org.root}/{org.ou}/*"}}),
        allow("iam:ListUsers", Condition={"StringEquals": {"aws:ResourceAccount": org.b}})))
    paths = api.iam(creds=session(api, f"arn:aws:iam::{org.a}:role/paths"))
    paths.list_roles()
    with pytest.raises(ClientError):
        paths.list_users()  # the request is in account a, not b


# ============================================================== Organizations access report
def seed_two_members(api, org):
    api.activity([
        {"entity": f"arn:aws:iam::{org.a}:role/{ACCESS_ROLE}", "service": "s3", "region": "eu-west-1", "at": ago(days=3)},
        {"entity": f"arn:aws:iam::{org.a}:user/alice", "service": "ec2", "at": ago(days=10)},
        {"entity": f"arn:aws:iam::{org.b}:role/{ACCESS_ROLE}", "service": "s3", "region": "us-west-2", "at": ago(days=1)},
        {"entity": f"arn:aws:iam::{org.b}:role/{ACCESS_ROLE}", "service": "dynamodb", "at": ago(days=5)},
        {"entity": f"arn:aws:iam::{org.b}:role/{ACCESS_ROLE}", "service": "sqs", "at": ago(days=401)},
        {"entity": f"arn:aws:iam::{MGMT}:user/local-admin", "service": "kms", "at": ago(days=1)},
    ])


def report(iam, job, **kw):
    out, marker = [], None
    while True:
        page = iam.get_organizations_access_report(JobId=job, **kw, **({"Marker": marker} if marker else {}))
        out.extend(page["AccessDetails"])
        if not page["IsTruncated"]:
            return page, out
        marker = page["Marker"]


def test_access_report_for_root_ou_and_accounts(api, org):
    seed_two_members(api, org)
    iam = api.iam()
    page, details = report(iam, iam.generate_organizations_access_report(EntityPath=org.path())["JobId"])
    by_ns = {d["ServiceNamespace"]: d for d in details}
    assert page["JobStatus"] == "COMPLETED"
    assert page["NumberOfServicesAccessible"] == len(details) > 300  # FullAWSAccess: every service
    assert page["NumberOfServicesNotAccessed"] == len(details) - 3
    s3 = by_ns["s3"]
    assert s3["EntityPath"] == org.path(org.b) and s3["Region"] == "us-west-2"
    assert s3["TotalAuthenticatedEntities"] == 2  # accounts that used it
    assert s3["ServiceName"] == "Amazon Simple Storage Service"
    assert by_ns["ec2"]["EntityPath"] == org.path(org.ou, org.a)
    assert by_ns["dynamodb"]["TotalAuthenticatedEntities"] == 1
    # never accessed (sqs: only before the 400-day window; kms: the management account only)
    assert by_ns["sqs"] == {"ServiceName": by_ns["sqs"]["ServiceName"], "ServiceNamespace": "sqs",
                            "TotalAuthenticatedEntities": 0}
    assert "LastAuthenticatedTime" not in by_ns["kms"]
    # the OU: account a only
    _, details = report(iam, iam.generate_organizations_access_report(EntityPath=org.path(org.ou))["JobId"])
    used = {d["ServiceNamespace"]: d for d in details if "LastAuthenticatedTime" in d}
    assert set(used) == {"s3", "ec2"} and used["s3"]["EntityPath"] == org.path(org.ou, org.a)
    # account b (directly under the root)
    _, details = report(iam, iam.generate_organizations_access_report(EntityPath=org.path(org.b) + "/")["JobId"])
    assert {d["ServiceNamespace"] for d in details if "LastAuthenticatedTime" in d} == {"s3", "dynamodb"}
    # the management account: every service, its own activity only
    page, details = report(iam, iam.generate_organizations_access_report(EntityPath=org.path(MGMT))["JobId"])
    assert [d["ServiceNamespace"] for d in details if "LastAuthenticatedTime" in d] == ["kms"]
    assert [d for d in details if d["ServiceNamespace"] == "kms"][0]["EntityPath"] == org.path(MGMT)


def test_access_report_follows_service_control_policies(api, org):
    seed_two_members(api, org)
    o, iam = api.client("organizations"), api.iam()
    only = o.create_policy(Name="s3-and-ec2", Type="SERVICE_CONTROL_POLICY", Description="",
                           Content=doc(allow(["s3:*", "ec2:Describe*"])))["Policy"]["PolicySummary"]["Id"]
    no_ec2 = o.create_policy(Name="no-ec2", Type="SERVICE_CONTROL_POLICY", Description="",
                             Content=doc({"Effect": "Deny", "Action": "ec2:*", "Resource": "*"}))["Policy"]["PolicySummary"]["Id"]
    o.attach_policy(PolicyId=only, TargetId=org.ou)
    o.detach_policy(PolicyId="p-FullAWSAccess", TargetId=org.ou)
    # the OU: FullAWSAccess at the root, only s3/ec2 at the OU
    page, details = report(iam, iam.generate_organizations_access_report(EntityPath=org.path(org.ou))["JobId"])
    assert [d["ServiceNamespace"] for d in details] == ["ec2", "s3"]
    assert page["NumberOfServicesAccessible"] == 2 and page["NumberOfServicesNotAccessed"] == 0
    o.attach_policy(PolicyId=no_ec2, TargetId=org.a)
    _, details = report(iam, iam.generate_organizations_access_report(EntityPath=org.path(org.ou, org.a))["JobId"])
    assert [d["ServiceNamespace"] for d in details] == ["s3"]
    # a policy's report: the services it allows, data of the accounts it applies to
    page, details = report(iam, iam.generate_organizations_access_report(
        EntityPath=org.path(), OrganizationsPolicyId=only)["JobId"])
    assert [d["ServiceNamespace"] for d in details] == ["ec2", "s3"]
    s3 = details[1]
    assert s3["EntityPath"] == org.path(org.ou, org.a) and s3["TotalAuthenticatedEntities"] == 1
    # policy ignored for the management account
    page, _ = report(iam, iam.generate_organizations_access_report(
        EntityPath=org.path(MGMT), OrganizationsPolicyId=only)["JobId"])
    assert page["NumberOfServicesAccessible"] > 300


def test_access_report_status_sorting_and_pagination(api, org):
    seed_two_members(api, org)
    iam = api.iam()
    api.config(job_seconds=0.6)
    job = iam.generate_organizations_access_report(EntityPath=org.path())["JobId"]
    first = iam.get_organizations_access_report(JobId=job)
    assert first["JobStatus"] == "IN_PROGRESS" and "JobCompletionDate" not in first
    assert "AccessDetails" not in first and "NumberOfServicesAccessible" not in first
    time.sleep(0.7)
    done = iam.get_organizations_access_report(JobId=job, MaxItems=2, SortKey="LAST_AUTHENTICATED_TIME_DESCENDING")
    assert done["JobStatus"] == "COMPLETED" and done["IsTruncated"] and done["Marker"]
    assert done["JobCompletionDate"] - done["JobCreationDate"] == timedelta(seconds=0.6)
    assert [d["ServiceNamespace"] for d in done["AccessDetails"]] == ["s3", "dynamodb"]
    nxt = iam.get_organizations_access_report(JobId=job, MaxItems=2, Marker=done["Marker"],
                                              SortKey="LAST_AUTHENTICATED_TIME_DESCENDING")
    assert nxt["AccessDetails"][0]["ServiceNamespace"] == "ec2"
    assert "LastAuthenticatedTime" not in nxt["AccessDetails"][1]  # never accessed come last
    _, asc = report(iam, job, SortKey="LAST_AUTHENTICATED_TIME_ASCENDING", MaxItems=1000)
    assert [d["ServiceNamespace"] for d in asc[:3]] == ["ec2", "dynamodb", "s3"]
    _, desc = report(iam, job, SortKey="SERVICE_NAMESPACE_DESCENDING", MaxItems=1000)
    _, default = report(iam, job, MaxItems=1000)
    assert [d["ServiceNamespace"] for d in desc] == list(reversed([d["ServiceNamespace"] for d in default]))
    assert [d["ServiceNamespace"] for d in default] == sorted(d["ServiceNamespace"] for d in default)
    with pytest.raises(ClientError) as e:  # a marker of another sort order
        iam.get_organizations_access_report(JobId=job, Marker=done["Marker"])
    assert err(e.value)[0] == "InvalidInput"
    # FAILED through the `fail` config (the entity path)
    api.config(job_seconds=0, fail=[org.path(org.b)])
    failed = iam.get_organizations_access_report(
        JobId=iam.generate_organizations_access_report(EntityPath=org.path(org.b))["JobId"])
    assert failed["JobStatus"] == "FAILED" and failed["ErrorDetails"]["Code"] == "FAILED"
    assert "AccessDetails" not in failed


def test_access_report_pending_limit(api, org):
    iam = api.iam()
    api.config(job_seconds=30, max_pending_org_reports=2)
    assert api.control("config", method="GET").json()["max_pending_org_reports"] == 2
    iam.generate_organizations_access_report(EntityPath=org.path())
    iam.generate_organizations_access_report(EntityPath=org.path(org.ou))
    with pytest.raises(ClientError) as e:
        iam.generate_organizations_access_report(EntityPath=org.path(org.b))
    assert err(e.value) == ("ReportGenerationLimitExceeded", "The request failed because the maximum number "
                            "of concurrent requests for this account are already running.", 409)
    api.config(max_pending_org_reports=3)
    iam.generate_organizations_access_report(EntityPath=org.path(org.b))
    r = api.control("config", {"max_pending_org_reports": 0})
    assert r.status_code == 400
    assert requests.post(api.url + "/moto-api/reset", timeout=10).status_code == 200
    assert "max_pending_org_reports" not in api.control("config", method="GET").json()


def test_access_report_callers_and_errors(api, org):
    iam = api.iam(validate=False)
    member_creds = org.admin(org.a)
    path = org.path(org.ou, org.a)
    with pytest.raises(ClientError) as e:
        api.iam(creds=member_creds).generate_organizations_access_report(EntityPath=path)
    caller = f"arn:aws:sts::{org.a}:assumed-role/{ACCESS_ROLE}/admin"
    assert err(e.value) == ("AccessDenied", denied(
        caller, "iam:GenerateOrganizationsAccessReport", f"arn:aws:iam::{org.a}:access-report/{path}",
        "because the account is not the management account of an organization"), 403)
    with pytest.raises(ClientError) as e:
        api.iam(creds=outside_admin(api)).generate_organizations_access_report(EntityPath=path)
    assert err(e.value)[0] == "AccessDenied"
    job = iam.generate_organizations_access_report(EntityPath=path)["JobId"]
    with pytest.raises(ClientError) as e:  # other accounts, other identities
        api.iam(creds=member_creds).get_organizations_access_report(JobId=job)
    assert err(e.value)[:1] == ("NoSuchEntity",) and err(e.value)[2] == 404
    iam.create_role(RoleName="reader", AssumeRolePolicyDocument=trust({"AWS": f"arn:aws:iam::{MGMT}:root"}))
    iam.put_role_policy(RoleName="reader", PolicyName="p", PolicyDocument=doc(allow("iam:GetOrganizationsAccessReport")))
    with pytest.raises(ClientError) as e:
        api.iam(creds=session(api, f"arn:aws:iam::{MGMT}:role/reader")).get_organizations_access_report(JobId=job)
    assert err(e.value)[0] == "NoSuchEntity" and "another identity" in err(e.value)[1]
    with pytest.raises(ClientError) as e:
        iam.get_service_last_accessed_details(JobId=job)  # not an access-advisor job
    assert err(e.value)[0] == "NoSuchEntity"
    for bad, code in [(f"{org.id}/{org.root}/ou-zzzz-zzzzzzzz", "InvalidInput"),
                      (f"{org.id}/{org.root}/{org.a}", "InvalidInput"),  # a is under the OU
                      (f"o-zzzzzzzzzz/{org.root}", "InvalidInput"),
                      ("not-a-path-at-all-xx", "ValidationError")]:
        with pytest.raises(ClientError) as e:
            iam.generate_organizations_access_report(EntityPath=bad)
        assert err(e.value)[0] == code, bad
    with pytest.raises(ClientError) as e:
        iam.generate_organizations_access_report(EntityPath=path, OrganizationsPolicyId="p-nosuchpolicy")
    assert err(e.value)[0] == "InvalidInput"
    with pytest.raises(ClientError) as e:
        iam.get_organizations_access_report(JobId=job, SortKey="BY_NAME")
    assert err(e.value)[0] == "ValidationError"


def test_access_report_permissions(api, org):
    """iam:GenerateOrganizationsAccessReport on the access-report ARN (condition key
    iam:OrganizationsPolicyId) plus the Organizations reads IAM's user guide requires."""
    iam = api.iam()
    mgmt_trust = trust({"AWS": f"arn:aws:iam::{MGMT}:root"})
    reads = allow(["organizations:DescribePolicy", "organizations:ListChildren", "organizations:ListParents",
                   "organizations:ListPoliciesForTarget", "organizations:ListRoots",
                   "organizations:ListTargetsForPolicy", "iam:GetOrganizationsAccessReport"])
    iam.create_role(RoleName="full", AssumeRolePolicyDocument=mgmt_trust)
    iam.put_role_policy(RoleName="full", PolicyName="p", PolicyDocument=doc(
        reads, allow("iam:GenerateOrganizationsAccessReport", f"arn:aws:iam::{MGMT}:access-report/{org.id}/*")))
    iam.create_role(RoleName="iam-only", AssumeRolePolicyDocument=mgmt_trust)
    iam.put_role_policy(RoleName="iam-only", PolicyName="p", PolicyDocument=doc(
        allow(["iam:GenerateOrganizationsAccessReport", "iam:GetOrganizationsAccessReport"])))
    iam.create_role(RoleName="policy-only", AssumeRolePolicyDocument=mgmt_trust)
    iam.put_role_policy(RoleName="policy-only", PolicyName="p", PolicyDocument=doc(
        reads, allow("iam:GenerateOrganizationsAccessReport",
                     Condition={"StringEquals": {"iam:OrganizationsPolicyId": "p-FullAWSAccess"}})))
    full = api.iam(creds=session(api, f"arn:aws:iam::{MGMT}:role/full"))
    job = full.generate_organizations_access_report(EntityPath=org.path())["JobId"]
    assert full.get_organizations_access_report(JobId=job)["JobStatus"] == "COMPLETED"
    with pytest.raises(ClientError) as e:
        api.iam(creds=session(api, f"arn:aws:iam::{MGMT}:role/iam-only")).generate_organizations_access_report(
            EntityPath=org.path())
    assert err(e.value) == ("AccessDenied", denied(
        f"arn:aws:sts::{MGMT}:assumed-role/iam-only/sess", "organizations:DescribePolicy", "*"), 403)
    policy_only = api.iam(creds=session(api, f"arn:aws:iam::{MGMT}:role/policy-only"))
    policy_only.generate_organizations_access_report(EntityPath=org.path(), OrganizationsPolicyId="p-FullAWSAccess")
    with pytest.raises(ClientError) as e:
        policy_only.generate_organizations_access_report(EntityPath=org.path())
    assert err(e.value)[1] == denied(f"arn:aws:sts::{MGMT}:assumed-role/policy-only/sess",
                                     "iam:GenerateOrganizationsAccessReport",
                                     f"arn:aws:iam::{MGMT}:access-report/{org.path()}")
