"""An organization-wide scan, end to end on the local stack with IAM enforced: the local
account is the Organization's management account (`make local-up`), member accounts are
made with CreateAccount (each gets its OrganizationAccountAccessRole, as in AWS), and the
member role is deployed into them from infra/member-role.yaml through the emulator's
CloudFormation, as a StackSet would. One member account has no member role."""
import json
import os
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError

from helpers import ROOT, ago, allow

MEMBER_ROLE = "iam-last-accessed-member"


def finished(stack, name, run_input):
    """Starts a run and waits for it: (status, error, cause, output)."""
    d = stack.finish(name, run_input)
    return d["status"], d.get("error"), d.get("cause") or "", json.loads(d.get("output") or "null")


def summary_of(stack, name):
    keys = [k for k in stack.keys("reports/runs/") if f"/run={name}/summary.json" in k]
    assert len(keys) == 1, keys
    return stack.json(keys[0])


def member_clients(stack, account_id):
    """IAM and CloudFormation clients acting in a member account, through the
    OrganizationAccountAccessRole that CreateAccount left there."""
    sts = boto3.client("sts", endpoint_url=stack.endpoint, region_name="us-east-1")
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole",
                            RoleSessionName="org-test")["Credentials"]
    kw = dict(endpoint_url=stack.endpoint, region_name="us-east-1", aws_access_key_id=creds["AccessKeyId"],
              aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])
    return boto3.client("iam", **kw), boto3.client("cloudformation", **kw)


@pytest.fixture(scope="module")
def org(stack):
    """Three member accounts under a small OU tree, each seeded with its own principals and
    activity; `a` and `b` have the member role, `c` has none."""
    o = boto3.client("organizations", endpoint_url=stack.endpoint, region_name="us-east-1")
    root = o.list_roots()["Roots"][0]["Id"]
    # IAM's Organizations access report needs SCPs enabled on the root (as in AWS, they
    # are not by default).
    if not any(t["Type"] == "SERVICE_CONTROL_POLICY" and t["Status"] == "ENABLED"
               for t in o.list_roots()["Roots"][0].get("PolicyTypes", [])):
        o.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
    tag = uuid.uuid4().hex[:8]
    workloads = o.create_organizational_unit(ParentId=root, Name=f"workloads-{tag}")["OrganizationalUnit"]["Id"]
    prod = o.create_organizational_unit(ParentId=workloads, Name=f"prod-{tag}")["OrganizationalUnit"]["Id"]
    t = {"tag": tag, "root": root, "workloads": workloads, "prod": prod, "path": f"/org-{tag}/", "roles": {}}
    template = open(os.path.join(ROOT, "infra", "member-role.yaml")).read()
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    activity = []
    for name, parent, member_role in (("a", workloads, True), ("b", prod, True), ("c", root, False)):
        status = o.create_account(AccountName=f"{name}-{tag}", Email=f"{name}-{tag}@example.com")["CreateAccountStatus"]
        account_id = o.describe_create_account_status(CreateAccountRequestId=status["Id"])["CreateAccountStatus"]["AccountId"]
        if parent != root:
            o.move_account(AccountId=account_id, SourceParentId=root, DestinationParentId=parent)
        t[name] = account_id
        iam, cfn = member_clients(stack, account_id)
        if member_role:
            cfn.create_stack(StackName="iam-last-accessed-member", TemplateBody=template,
                             Parameters=[{"ParameterKey": "ScannerAccountId", "ParameterValue": "123456789012"}],
                             Capabilities=["CAPABILITY_NAMED_IAM"])
            assert cfn.describe_stacks(StackName="iam-last-accessed-member")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
        # Each account: a role that used s3 recently and ec2 long ago, and one that used nothing.
        busy = iam.create_role(RoleName=f"busy-{name}", Path=t["path"], AssumeRolePolicyDocument=trust)["Role"]["Arn"]
        iam.put_role_policy(RoleName=f"busy-{name}", PolicyName="p", PolicyDocument=allow("s3:GetObject", "ec2:DescribeInstances"))
        idle = iam.create_role(RoleName=f"idle-{name}", Path=t["path"], AssumeRolePolicyDocument=trust)["Role"]["Arn"]
        iam.put_role_policy(RoleName=f"idle-{name}", PolicyName="p", PolicyDocument=allow("sqs:SendMessage"))
        t["roles"][name] = {"busy": busy, "idle": idle}
        activity += [{"entity": busy, "service": "s3", "at": ago(3)}, {"entity": busy, "service": "ec2", "at": ago(200)}]
    stack.control("/moto-api/iam-access-advisor/activity", activity)
    stack.control("/moto-api/iam-access-advisor/config", {"job_seconds": 1.0, "fail": []})
    return t


POLL = {"initial_wait_seconds": 1, "max_wait_seconds": 1, "max_attempts": 30}


def test_all_reports_every_reachable_account_and_names_the_unreachable_one(stack, org, tmp_path):
    name = f"org-all-{org['tag']}"
    status, error, cause, _ = finished(stack, name, {
        "organization": {"all": True}, "discover": {"path_prefix": org["path"]}, "poll": POLL})
    # One account was not scanned: the run says so, and fails plainly.
    assert (status, error) == ("FAILED", "IncompleteRun"), cause
    assert org["c"] in cause and "not fully scanned" in cause, cause
    summary = summary_of(stack, name)
    lines = {a["id"]: a for a in summary["accounts"]}
    assert {org["a"], org["b"], org["c"], "123456789012"} <= set(lines)
    for key in ("a", "b"):
        line = lines[org[key]]
        assert (line["status"], line["principals"], line["reports_written"]) == ("SUCCEEDED", 2, 2), line
        # busy: s3 active, ec2 stale; idle: sqs never used.
        assert (line["services_granted"], line["services_used"], line["services_unused"]) == (3, 1, 2), line
        assert line["name"] == f"{key}-{org['tag']}"
        # Its preflight read its job again through the member role in Check's session.
        assert line["job_binding"] == "role_session_name", line
    assert summary["job_binding"] == "role_session_name"
    assert "job_binding" not in lines[org["c"]], "an account not reached says nothing of it"
    assert lines[org["a"]]["ou_path"] == f"{org['root']}/{org['workloads']}"
    assert lines[org["b"]]["ou_path"] == f"{org['root']}/{org['workloads']}/{org['prod']}"
    unreachable = lines[org["c"]]
    assert unreachable["status"] == "UNREACHABLE", unreachable
    assert MEMBER_ROLE in unreachable["error"] and "AccessDenied" in unreachable["error"], unreachable
    assert unreachable["reports_written"] == 0
    # The management account (the stack's own) is read through the stack's reader role:
    # nothing of it is under the test's path, which is no error in an organization run.
    assert lines["123456789012"]["status"] == "SUCCEEDED"
    assert summary["account_counts"]["UNREACHABLE"] >= 1
    assert summary["status"] == "INCOMPLETE"

    # Reports land under account= keys, and say what each account's principals used.
    reports = {}
    for key in summary["report_keys"]:
        assert f"/run={name}/account=" in key, key
        report = stack.json(key)
        assert f"/account={report['scanned_account']}/" in key
        reports[report["arn"]] = report
    for key in ("a", "b"):
        busy = reports[org["roles"][key]["busy"]]
        usage = {s["namespace"]: s["usage"] for s in busy["services"]}
        assert usage == {"s3": "active", "ec2": "stale"}, usage
        assert busy["account"] == org[key] and busy["job"]["status"] == "COMPLETED"
        idle = reports[org["roles"][key]["idle"]]
        assert {s["namespace"]: s["usage"] for s in idle["services"]} == {"sqs": "never_used"}
    assert not any(a.startswith(f"arn:aws:iam::{org['c']}:") for a in reports)
    # The org-wide list of most-unused principals spans accounts.
    top = {t["arn"] for t in summary["top_unused"]}
    assert org["roles"]["a"]["idle"] in top and org["roles"]["b"]["idle"] in top
    pages_link_overview_and_accounts(stack, summary, org, tmp_path)


def pages_link_overview_and_accounts(stack, summary, org, tmp_path):
    """The run's page is an overview with a row per account, linking the page of each
    account read (beside it, as in the bucket); an account's page shows its principals
    only, and links back."""
    import sys
    sys.path.insert(0, os.path.join(ROOT, "tests", "browser"))
    from cdp import Browser, find_chromium
    if not find_chromium():
        pytest.fail("chromium is not installed: `make setup` installs Debian's `chromium`", pytrace=False)
    run_dir = summary["reports_prefix"].replace("reports/principals/", "reports/runs/")
    for key in stack.keys(run_dir):
        if key.endswith(".html"):
            target = tmp_path / key[len(run_dir):]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(stack.s3.get_object(Bucket=stack.bucket, Key=key)["Body"].read())
    read = {a["id"] for a in summary["accounts"] if a["status"] != "UNREACHABLE"}
    assert {p.stem for p in (tmp_path / "accounts").iterdir()} == read, "a page per account read"
    with Browser() as b:
        b.open(str(tmp_path / "index.html"))
        rows = b.evaluate("[...document.querySelectorAll('table#accounts tbody tr[data-account]')]"
                          ".map(r => [r.dataset.account, r.dataset.status, r.querySelector('a')?.getAttribute('href') ?? null])")
        assert {r[0]: r[1] for r in rows} == {a["id"]: a["status"] for a in summary["accounts"]}
        links = {r[0]: r[2] for r in rows}
        assert links[org["a"]] == f"accounts/{org['a']}.html" and links[org["c"]] is None, links
        assert b.evaluate("document.getElementById('principals-section').hidden") is True
        # Every account by id, name, OU path and status; the unreachable one with its
        # reason, as the summary says it (STS refused its member role).
        cells = b.evaluate("Object.fromEntries([...document.querySelectorAll('table#accounts tbody tr[data-account]')]"
                           ".map(r => [r.dataset.account, [...r.querySelectorAll('td')].map(td => td.textContent)]))")
        for line in summary["accounts"]:
            row = cells[line["id"]]
            assert row[:4] == [line["id"], line["name"], line["ou_path"], line["status"]], (row, line)
            assert row[8] == (line.get("error") or ""), (row, line)
        assert cells[org["a"]][1] == f"a-{org['tag']}" and cells[org["c"]][3] == "UNREACHABLE"
        reason = cells[org["c"]][8]
        assert MEMBER_ROLE in reason and "AccessDenied" in reason, reason
        why = b.evaluate("document.getElementById('run-why').textContent")
        assert org["c"] in why and "UNREACHABLE" in why and reason in why, why
        assert b.errors == []
        b.open(str(tmp_path / "accounts" / f"{org['a']}.html"))
        assert org["a"] in b.evaluate("document.getElementById('account').textContent")
        shown = b.evaluate("[...document.querySelectorAll('table#principals tbody tr[data-arn]')].map(r => r.dataset.arn)")
        assert sorted(shown) == sorted(org["roles"]["a"].values()), shown
        # Each row and heat-map label names the account.
        accounts = b.evaluate("[...document.querySelectorAll('table#principals tbody tr[data-arn] td.account')]"
                              ".map(td => td.textContent)")
        assert accounts == [f"{org['a']} (a-{org['tag']})"] * len(shown), accounts
        labels = b.evaluate("[...document.querySelectorAll('#heatmap tr[data-arn] th.row')].map(th => th.textContent)")
        assert sorted(labels) == sorted(f"{org['a']} role{org['path']}{r}-a" for r in ("busy", "idle")), labels
        assert b.evaluate("document.querySelector('#account a').getAttribute('href')") == "../index.html"
        assert b.errors == []


def test_only_the_scanners_own_roles_may_assume_the_member_role(stack, org):
    """The member role trusts the scanner stack's function roles by full ARN: a role
    someone creates on the scanner's /iam-last-accessed/ path, with every permission to
    assume it, is refused (the stack's Plan role reads account a in the test above)."""
    sts = boto3.client("sts", endpoint_url=stack.endpoint, region_name="us-east-1")
    member_role = f"arn:aws:iam::{org['a']}:role/{MEMBER_ROLE}"
    name = f"impostor-{org['tag']}"
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}]})
    impostor = stack.iam.create_role(RoleName=name, Path="/iam-last-accessed/", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    stack.iam.put_role_policy(RoleName=name, PolicyName="assume", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}))
    creds = sts.assume_role(RoleArn=impostor, RoleSessionName="try")["Credentials"]
    as_impostor = boto3.client("sts", endpoint_url=stack.endpoint, region_name="us-east-1",
                               aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                               aws_session_token=creds["SessionToken"])
    with pytest.raises(ClientError) as refused:
        as_impostor.assume_role(RoleArn=member_role, RoleSessionName="scan")
    assert refused.value.response["Error"]["Code"] == "AccessDenied", refused.value.response
    # The stack's own Plan role is the one the trust names.
    plan_role = stack.iam.get_role(RoleName="iam-last-accessed-plan")["Role"]["Arn"]
    assert plan_role == "arn:aws:iam::123456789012:role/iam-last-accessed/iam-last-accessed-plan"


def test_units_and_exclude_select_the_right_accounts(stack, org):
    name = f"org-units-{org['tag']}"
    status, error, cause, _ = finished(stack, name, {
        "organization": {"units": [org["workloads"]]}, "discover": {"path_prefix": org["path"]}, "poll": POLL})
    assert status == "SUCCEEDED", (error, cause)
    assert sorted(a["id"] for a in summary_of(stack, name)["accounts"]) == sorted([org["a"], org["b"]])

    name = f"org-excl-{org['tag']}"
    status, error, cause, _ = finished(stack, name, {
        "organization": {"all": True, "exclude": [org["c"], org["a"], "123456789012"]},
        "discover": {"path_prefix": org["path"]}, "poll": POLL})
    ids = [a["id"] for a in summary_of(stack, name)["accounts"]]
    assert org["b"] in ids and not {org["a"], org["c"], "123456789012"} & set(ids), ids
    assert status == "SUCCEEDED", (error, cause)

    # Explicit ARNs of a member account, without discovery: only that account is scanned.
    name = f"org-arns-{org['tag']}"
    status, error, cause, _ = finished(stack, name, {
        "organization": {"all": True}, "arns": [org["roles"]["b"]["busy"]], "poll": POLL})
    assert status == "SUCCEEDED", (error, cause)
    summary = summary_of(stack, name)
    assert [a["id"] for a in summary["accounts"]] == [org["b"]]
    assert summary["counts"]["reports_written"] == 1


@pytest.mark.parametrize("organization, field", [
    ({"units": ["ou-zzzz-zzzzzzzz"]}, "organization.units[0]"),
    ({"accounts": ["999999999999"]}, "organization.accounts[0]"),
    ({"all": True, "accounts": ["999999999999"]}, "organization"),
])
def test_bad_organizations_are_invalid_input_naming_the_field(stack, org, organization, field):
    name = f"org-bad-{uuid.uuid4().hex[:8]}"
    status, error, cause, _ = finished(stack, name, {"organization": organization})
    assert (status, error) == ("FAILED", "InvalidInput"), cause
    assert field in cause, cause


def test_the_access_report_says_per_root_ou_and_account_what_was_used_and_never_used(stack, org):
    """IAM's Organizations access report (the SCP view), asked from the management account
    for the root, each OU above the scanned accounts and each account."""
    stack.control("/moto-api/iam-access-advisor/config", {"max_pending_org_reports": 2})
    name = f"org-access-{org['tag']}"
    status, error, cause, _ = finished(stack, name, {
        "organization": {"units": [org["workloads"]], "access_report": True},
        "discover": {"path_prefix": org["path"]}, "poll": POLL})
    assert status == "SUCCEEDED", (error, cause)
    summary = summary_of(stack, name)
    access = summary["access_report"]
    org_id = boto3.client("organizations", endpoint_url=stack.endpoint,
                          region_name="us-east-1").describe_organization()["Organization"]["Id"]
    root_path = f"{org_id}/{org['root']}"
    ou_path = f"{root_path}/{org['workloads']}"
    prod_path = f"{ou_path}/{org['prod']}"
    lines = {line["entity_path"]: line for line in access["lines"]}
    # Five entities, more than the two IAM lets be pending at once: paced, all done.
    assert set(lines) == {root_path, ou_path, prod_path, f"{ou_path}/{org['a']}", f"{prod_path}/{org['b']}"}
    assert (access["entities"], access["done"], access["failed"]) == (5, 5, 0), access
    reports = {path: stack.json(line["report_key"]) for path, line in lines.items()}
    for path, report in reports.items():
        assert line_ok(report, path)
    used = lambda path: {s["namespace"]: s for s in reports[path]["services"] if s["usage"] == "used"}
    # Account a: its busy role used s3 and ec2; nothing else, so the rest are SCP candidates.
    assert set(used(f"{ou_path}/{org['a']}")) == {"s3", "ec2"}
    assert "sqs" in reports[f"{ou_path}/{org['a']}"]["never_used"]
    # The OU above a and b: both accounts used s3, the latest use names its account.
    s3 = used(ou_path)["s3"]
    assert s3["total_authenticated_entities"] == 2, s3
    # The root sees every member account, c included (it has no member role, but IAM's
    # report needs none): three accounts used s3.
    assert used(root_path)["s3"]["total_authenticated_entities"] == 3
    assert "sqs" in reports[root_path]["never_used"] and "s3" not in reports[root_path]["never_used"]


def test_an_access_report_iam_never_finishes_times_out_and_the_run_still_ends(stack, org):
    """Every loop ends: IAM's jobs never finish here, and past
    organization.access_report_timeout_seconds the entities left are TIMED_OUT, the run
    writes its summary and ends IncompleteRun naming the access report."""
    config = "/moto-api/iam-access-advisor/config"
    before = stack.control(config, {})
    stack.control(config, {"job_seconds": 100000})
    name = f"org-access-timeout-{org['tag']}"
    try:
        status, error, cause, _ = finished(stack, name, {
            "organization": {"accounts": [org["a"]], "access_report": True,
                             "access_report_timeout_seconds": 60},
            "discover": {"path_prefix": org["path"]},
            "poll": {"initial_wait_seconds": 1, "max_wait_seconds": 1, "max_attempts": 2}})
    finally:
        stack.control(config, {"job_seconds": before["job_seconds"]})
    assert (status, error) == ("FAILED", "IncompleteRun"), cause
    access = summary_of(stack, name)["access_report"]
    assert access["entities"] > 0 and (access["done"], access["timed_out"]) == (0, access["entities"]), access
    assert {line["state"] for line in access["lines"]} == {"TIMED_OUT"}
    assert all("60 s after its first round" in line["error"] for line in access["lines"]), access["lines"][0]
    assert "timed out" in cause and "access report" in cause, cause


def line_ok(report, path):
    return (report["entity_path"] == path and report["schema_version"].startswith("1.")
            and report["never_used"] == sorted(s["namespace"] for s in report["services"] if s["usage"] == "never_used"))


def test_an_incomplete_run_is_the_previous_run_of_the_accounts_it_scanned(stack, org):
    """Account c never has the member role, so every run of this scope is INCOMPLETE; each
    still looks back to the last for the accounts it scanned, and a use IAM forgets between
    two runs (past its 400-day window) is kept. Placed last: it ages every seeded use."""
    iam, _ = member_clients(stack, org["a"])
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    name = f"ancient-{org['tag']}"
    ancient = iam.create_role(RoleName=name, Path=org["path"], AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=allow("kms:Decrypt"))
    # Its neighbour is deleted and re-created under its name between the runs.
    again = f"replaced-{org['tag']}"

    def create_replaced():
        role = iam.create_role(RoleName=again, Path=org["path"], AssumeRolePolicyDocument=trust)["Role"]
        iam.put_role_policy(RoleName=again, PolicyName="p", PolicyDocument=allow("kms:Decrypt"))
        return role["Arn"], role["RoleId"]

    replaced, old_id = create_replaced()
    stack.control("/moto-api/iam-access-advisor/activity", [
        {"entity": ancient, "service": "kms", "at": ago(395)},
        {"entity": replaced, "service": "kms", "at": ago(395)},
    ])
    run_input = {"organization": {"accounts": [org["a"], org["c"]]},
                 "discover": {"path_prefix": org["path"], "types": ["role"]}, "poll": POLL}

    def run(name):
        status, error, cause, _ = finished(stack, name, run_input)
        assert (status, error) == ("FAILED", "IncompleteRun"), cause
        summary = summary_of(stack, name)
        assert summary["status"] == "INCOMPLETE" and summary["schema_version"].startswith("4.")
        reports = {stack.json(k)["arn"]: stack.json(k) for k in summary["report_keys"]}
        return summary, reports

    first = f"org-history-1-{org['tag']}"
    summary1, reports1 = run(first)
    kms = reports1[ancient]["services"][0]
    assert (kms["namespace"], kms["usage"]) == ("kms", "stale"), kms
    assert kms["last_authenticated"] is not None, "IAM still reports a use 395 days old"
    assert reports1[ancient]["principal_id"].startswith("AROA"), reports1[ancient]
    assert reports1[replaced]["principal_id"] == old_id
    assert reports1[replaced]["services"][0]["usage"] == "stale"

    # Ten days on, the use is 405 days old: IAM no longer reports it. And the neighbour
    # is replaced (what CloudFormation does on a replacement): same ARN, a new RoleId.
    stack.control("/moto-api/iam-access-advisor/age", {"days": 10})
    iam.delete_role_policy(RoleName=again, PolicyName="p")
    iam.delete_role(RoleName=again)
    assert create_replaced()[0] == replaced
    second = f"org-history-2-{org['tag']}"
    summary2, reports2 = run(second)
    report = reports2[ancient]
    assert report["changes"]["previous_run"]["run_id"] == first, report["changes"]
    assert report["changes"]["new"] is False
    kms = report["services"][0]
    assert kms["last_authenticated"] is None, "IAM forgot it"
    assert kms["usage"] == "stale", kms
    assert kms["last_authenticated_ever"]["run_id"] == first, kms
    assert kms["last_authenticated_ever"]["time"] == reports1[ancient]["services"][0]["last_authenticated"]
    # The run and each account it scanned look back to the first run; the account that
    # was never read has no previous run, and none of its principals is new or gone.
    assert summary2["changes"]["previous_run"]["run_id"] == first
    lines = {a["id"]: a for a in summary2["accounts"]}
    assert lines[org["a"]]["previous_run"]["run_id"] == first
    assert "previous_run" not in lines[org["c"]] and lines[org["c"]]["status"] == "UNREACHABLE"
    changes = summary2["changes"]
    assert (changes["principals_new"], changes["principals_recreated"], changes["principals_gone"]) == (1, 1, 0), changes
    # The re-created role is another principal: new, re-created, and it inherits nothing
    # of the old role's (its kms was last used by the old role, 405 days ago).
    fresh = reports2[replaced]
    assert fresh["principal_id"] not in (None, old_id), fresh["principal_id"]
    assert fresh["changes"]["new"] is True and fresh["changes"]["recreated"] is True, fresh["changes"]
    assert fresh["changes"]["previous_run"]["run_id"] == first
    kms = fresh["services"][0]
    assert (kms["usage"], kms["last_authenticated"]) == ("never_used", None), kms
    assert "last_authenticated_ever" not in kms, kms
    assert reports2[ancient]["changes"]["recreated"] is False
    assert reports2[ancient]["principal_id"] == reports1[ancient]["principal_id"]
    # The run's index carries the ids and the mark (what ila diff, the page and the next
    # run read).
    # The index is a JSON array, one principal a line (summary 4.0 streams it).
    index_key = f"reports/runs/dt={summary2['dt']}/run={second}/principals.json"
    index = json.loads(stack.s3.get_object(Bucket=stack.bucket, Key=index_key)["Body"].read())
    row = next(p for p in index if p["arn"] == replaced)
    assert row["principal_id"] == fresh["principal_id"] and row["changes"]["recreated"] is True, row
    # ila diff: each principal against its own previous report; the re-created role is
    # new (re-created), never compared with the role it replaced.
    import subprocess
    ila = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "debug", "ila")
    out = subprocess.run([ila, "--output", "json", "diff", second], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    diff = json.loads(out.stdout)
    assert (diff["new"], diff["recreated"], diff["gone"]) == ([replaced], [replaced], []), diff
