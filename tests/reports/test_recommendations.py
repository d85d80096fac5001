"""Least-privilege recommendations on the local stack, end to end: principals whose
recommendations are known are scanned with `report.recommendations`, every
recommendation is applied to the emulator's IAM with boto3 (IAM enforced, as an
administrator would), and a second scan shows that every service used before is still
granted, that nothing unused is left except what a recommendation kept for a stated
reason, and that nothing more is recommended."""
import json
import uuid

import pytest

from helpers import ago, allow, named_queries, principal_reports, reports_of

POLL = {"initial_wait_seconds": 1, "max_wait_seconds": 1, "max_attempts": 30}
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
POLICY_EDITS = {"UPDATE_POLICY", "DETACH_POLICY", "DELETE_INLINE_POLICY", "REPLACE_AWS_MANAGED_POLICY"}
CREDENTIALS = {"REMOVE_CONSOLE_PASSWORD", "DEACTIVATE_ACCESS_KEY"}


def name_of(arn):
    return arn.rsplit("/", 1)[1]


def kind_of(arn):
    return arn.split(":", 5)[5].split("/", 1)[0]  # user, role, group, policy


@pytest.fixture(scope="module")
def seeded(stack):
    tag = uuid.uuid4().hex[:10]
    path = f"/recs/{tag}/"
    iam = stack.iam
    # IAM serves a credential report up to four hours old; let an earlier test's expire
    # (the emulator's `age`: as if six hours passed) so this scan sees the users below.
    stack.control("/moto-api/iam-access-advisor/age", {"days": 0.25})
    t = {"tag": tag, "path": path}

    def role(name, inline=None):
        t[name] = iam.create_role(RoleName=f"{tag}-{name}", Path=path, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
        if inline:
            iam.put_role_policy(RoleName=f"{tag}-{name}", PolicyName=f"{name}-inline", PolicyDocument=inline)

    role("wild", json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    role("mixed", json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "Work", "Effect": "Allow", "Action": ["s3:GetObject", "ec2:DescribeInstances", "sns:Publish"], "Resource": "*",
         "Condition": {"Bool": {"aws:SecureTransport": "true"}}},
        {"Sid": "Never", "Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"}]}))
    role("passer", allow("iam:PassRole", "lambda:InvokeFunction"))
    role("idle")
    role("busy")
    t["shared"] = iam.create_policy(PolicyName=f"{tag}-shared", Path=path, PolicyDocument=allow("dynamodb:*", "kms:Decrypt"))["Policy"]["Arn"]
    for r in ("idle", "busy"):
        iam.attach_role_policy(RoleName=f"{tag}-{r}", PolicyArn=t["shared"])
    t["team"] = iam.create_group(GroupName=f"{tag}-team", Path=path)["Group"]["Arn"]
    iam.put_group_policy(GroupName=f"{tag}-team", PolicyName="team-inline", PolicyDocument=allow("s3:*", "sns:*"))
    t["member"] = iam.create_user(UserName=f"{tag}-member", Path=path)["User"]["Arn"]
    iam.add_user_to_group(GroupName=f"{tag}-team", UserName=f"{tag}-member")
    t["quiet"] = iam.create_user(UserName=f"{tag}-quiet", Path=path)["User"]["Arn"]
    iam.put_user_policy(UserName=f"{tag}-quiet", PolicyName="quiet-inline", PolicyDocument=allow("sqs:*"))
    # Credentials: quiet's password and key were never used; member's were, recently.
    for user in ("quiet", "member"):
        iam.create_login_profile(UserName=f"{tag}-{user}", Password="Correct-Horse-9-Battery")
        t[f"{user}_key"] = iam.create_access_key(UserName=f"{tag}-{user}")["AccessKey"]["AccessKeyId"]
    stack.control("/moto-api/iam-access-advisor/activity", [
        {"entity": t["wild"], "service": "s3", "at": ago(3)},
        {"entity": t["wild"], "service": "sqs", "at": ago(5)},
        {"entity": t["mixed"], "service": "s3", "at": ago(10)},
        {"entity": t["mixed"], "service": "ec2", "at": ago(200)},
        {"entity": t["busy"], "service": "dynamodb", "at": ago(4)},
        {"entity": t["member"], "service": "s3", "at": ago(2), "via": "access_key", "access_key_id": t["member_key"]},
        {"entity": t["member"], "service": "s3", "at": ago(1), "via": "console"},
    ])
    stack.control("/moto-api/iam-access-advisor/config", {"job_seconds": 1.0, "fail": []})
    run_input = {"discover": {"path_prefix": path}, "poll": POLL,
                 "report": {"recommendations": True, "min_age_days": 0}}
    t["input"] = run_input
    t["first"] = stack.run(f"recs-1-{tag}", run_input)
    return t


def recs(report, action=None):
    return [r for r in report["recommendations"] if action is None or r["action"] == action]


def test_the_recommendations_match_the_seeded_truth(stack, seeded):
    t = seeded
    summary, by_arn = reports_of(stack, t["first"])
    actions = {name_of(a): sorted(r["action"] for r in rep["recommendations"]) for a, rep in by_arn.items()}
    tag = t["tag"]
    assert actions == {
        f"{tag}-wild": ["UPDATE_POLICY"],
        f"{tag}-mixed": ["UPDATE_POLICY"],
        f"{tag}-passer": ["DELETE_PRINCIPAL", "UPDATE_POLICY"],
        f"{tag}-idle": ["DELETE_PRINCIPAL", "DETACH_POLICY"],
        f"{tag}-busy": [],
        f"{tag}-shared": ["UPDATE_POLICY"],
        f"{tag}-team": ["UPDATE_POLICY"],
        f"{tag}-member": [],
        f"{tag}-quiet": ["DEACTIVATE_ACCESS_KEY", "DELETE_INLINE_POLICY", "REMOVE_CONSOLE_PASSWORD"],
    }, actions

    wild = recs(by_arn[t["wild"]])[0]
    # Every action but those of the listed services it did not use: s3 and sqs whole,
    # and every service the report does not list (kept: not_reported).
    excluded = wild["recommended_document"]["Statement"][0]["NotAction"]
    assert "ec2:*" in excluded and not {"s3:*", "sqs:*"} & set(excluded), excluded
    assert wild["narrowed"][0]["from"] == "*"
    assert {"s3:*", "sqs:*"} <= set(wild["narrowed"][0]["to"]), wild["narrowed"]
    assert {"action": "*", "reason": "not_reported"} in wild["kept"], wild["kept"]
    mixed = recs(by_arn[t["mixed"]])[0]
    statements = mixed["recommended_document"]["Statement"]
    assert statements[0]["Action"] == ["s3:GetObject"] and statements[0]["Sid"] == "Work"
    assert statements[0]["Condition"] == {"Bool": {"aws:SecureTransport": "true"}}, "Condition untouched"
    assert statements[1] == {"Sid": "Never", "Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"}, "Deny untouched"
    assert sorted(mixed["removes"]["services"]) == ["ec2", "sns"], "ec2 stale, sns never used"
    passer = recs(by_arn[t["passer"]], "UPDATE_POLICY")[0]
    assert passer["recommended_document"]["Statement"][0]["Action"] == ["iam:PassRole"]
    assert passer["kept"] == [{"action": "iam:PassRole", "reason": "permission_only"}]
    detach = recs(by_arn[t["idle"]], "DETACH_POLICY")[0]
    assert detach["policy"] == {"kind": "managed", "name": f"{tag}-shared", "arn": t["shared"], "holder": t["idle"]}
    shared = recs(by_arn[t["shared"]])[0]
    assert shared["policy"]["holder"] is None and shared["removes"]["services"] == ["kms"]
    team = recs(by_arn[t["team"]])[0]
    assert team["policy"] == {"kind": "inline", "name": "team-inline", "holder": t["team"]}
    assert team["removes"]["services"] == ["sns"]
    key = recs(by_arn[t["quiet"]], "DEACTIVATE_ACCESS_KEY")[0]
    assert key["access_key_id"] == t["quiet_key"] and "never used" in key["reason"], key
    assert "never used" in recs(by_arn[t["quiet"]], "REMOVE_CONSOLE_PASSWORD")[0]["reason"]
    member = by_arn[t["member"]]["credentials"]
    assert member["password_last_used"] is not None and member["access_keys"][0]["last_used"] is not None
    assert member["access_keys"][0]["id"] is None, "a key in use is not looked up (ids only for unused keys)"
    assert member["access_keys"][0]["last_used_service"] == "s3"
    assert by_arn[t["quiet"]]["findings"]["unused_credentials"] == ["password", f"access_key:{t['quiet_key']}"]
    assert by_arn[t["idle"]]["findings"]["unused_credentials"] == ["role"]
    c = summary["counts"]["recommendations"]
    assert (c["principals_with_recommendations"], c["recommendations"], c["policies_to_detach"], c["unused_credentials"]) == (7, 11, 1, 4), c


def test_the_athena_query_lists_every_recommendation(stack, seeded, tmp_path):
    summary, by_arn = reports_of(stack, seeded["first"])
    con = principal_reports(stack, summary["report_keys"], tmp_path)
    rows = con.execute(named_queries()["RecommendationsQuery"], [summary["run_id"]]).fetchall()
    expected = sorted((arn, r["action"], (r.get("policy") or {}).get("name"), r.get("access_key_id"))
                      for arn, report in by_arn.items() for r in report["recommendations"])
    assert sorted((row[0], row[2], row[4], row[8]) for row in rows) == expected


def test_ila_shows_the_recommendations_and_writes_the_documents(stack, seeded, tmp_path):
    import os
    import subprocess
    from conftest import ROOT
    t = seeded
    run = f"recs-1-{t['tag']}"
    ila = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "debug", "ila")
    out = subprocess.run([ila, "recommendations", run, "--write", str(tmp_path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "11 recommendations for 7 principals" in text, text
    assert f'UPDATE_POLICY inline policy "mixed-inline"' in text
    removed = [line for line in text.splitlines() if line.startswith("    - ")]
    assert any('"ec2:DescribeInstances"' in line for line in removed) and "removes ec2, sns" in text, text
    assert "keeps iam:PassRole (permission_only)" in text
    written = tmp_path / f"role-{t['tag']}-mixed" / "inline-mixed-inline.json"
    _, by_arn = reports_of(stack, t["first"])
    assert json.loads(written.read_text()) == recs(by_arn[t["mixed"]], "UPDATE_POLICY")[0]["recommended_document"]
    one = subprocess.run([ila, "--output", "json", "recommendations", run, "--arn", t["quiet"]], capture_output=True, text=True)
    assert [p["arn"] for p in json.loads(one.stdout)] == [t["quiet"]]


def test_the_runs_page_shows_a_principals_recommendations(stack, seeded, tmp_path):
    import os
    import sys
    from conftest import ROOT
    sys.path.insert(0, os.path.join(ROOT, "tests", "browser"))
    from cdp import Browser, find_chromium
    from test_page_sample import type_filter
    if not find_chromium():
        pytest.fail("chromium is not installed: `make setup` installs Debian's chromium", pytrace=False)
    t = seeded
    key = t["first"]["summary_key"].replace("/summary.json", "/index.html")
    page = tmp_path / "index.html"
    page.write_bytes(stack.s3.get_object(Bucket=stack.bucket, Key=key)["Body"].read())
    with Browser() as b:
        b.open(str(page))
        type_filter(b, "input#principal-filter", t["mixed"])
        b.evaluate(f"document.querySelector('table#principals tbody tr[data-arn=\"{t['mixed']}\"] td').click()")
        shown = b.evaluate("[...document.querySelectorAll('#detail #recommendations li')].map(li => li.textContent)")
        assert shown == ['UPDATE_POLICY "mixed-inline" (inline): removes ec2, sns'], shown
        # Each principal's row counts its report's recommendations.
        type_filter(b, "input#principal-filter", t["tag"])
        cells = b.evaluate("Object.fromEntries([...document.querySelectorAll('table#principals tbody tr[data-arn]')]"
                           ".map(r => [r.dataset.arn, r.querySelector('td.recommendations').textContent]))")
        summary = stack.json(t["first"]["summary_key"])
        reports = {r["arn"]: r for r in (stack.json(k) for k in summary["report_keys"])}
        assert set(cells) == set(reports)
        for arn, text in cells.items():
            n, held = len(reports[arn].get("recommendations") or []), reports[arn].get("recommendations_withheld")
            expected = "withheld" if held and not n else f"{n:,}" + (" (some withheld)" if held else "")
            assert text == expected, (arn, text, n, held)
        assert cells[t["mixed"]] == "1" and cells[t["idle"]] not in ("0", "withheld"), cells
        b.pump(0.2)
        assert b.errors == []


def apply(iam, rec, principal):
    """What an administrator would run for one recommendation."""
    action, policy = rec["action"], rec.get("policy")
    if action == "DELETE_PRINCIPAL":
        return  # after every policy change (below)
    if action == "REMOVE_CONSOLE_PASSWORD":
        return iam.delete_login_profile(UserName=name_of(principal))
    if action == "DEACTIVATE_ACCESS_KEY":
        return iam.update_access_key(UserName=name_of(principal), AccessKeyId=rec["access_key_id"], Status="Inactive")
    holder = policy["holder"]
    kind = kind_of(holder) if holder else "policy"
    name = name_of(holder) if holder else None
    document = json.dumps(rec.get("recommended_document")) if rec.get("recommended_document") else None
    put = {"user": iam.put_user_policy, "role": iam.put_role_policy, "group": iam.put_group_policy}
    delete = {"user": iam.delete_user_policy, "role": iam.delete_role_policy, "group": iam.delete_group_policy}
    detach = {"user": iam.detach_user_policy, "role": iam.detach_role_policy, "group": iam.detach_group_policy}
    key = {"user": "UserName", "role": "RoleName", "group": "GroupName"}
    if action == "UPDATE_POLICY" and policy["kind"] == "inline":
        put[kind](**{key[kind]: name}, PolicyName=policy["name"], PolicyDocument=document)
    elif action == "UPDATE_POLICY":
        iam.create_policy_version(PolicyArn=policy["arn"], PolicyDocument=document, SetAsDefault=True)
    elif action == "DELETE_INLINE_POLICY":
        delete[kind](**{key[kind]: name}, PolicyName=policy["name"])
    elif action == "DETACH_POLICY":
        detach[kind](**{key[kind]: name}, PolicyArn=policy["arn"])
    elif action == "REPLACE_AWS_MANAGED_POLICY":
        scoped = iam.create_policy(PolicyName=f"{policy['name']}-scoped-{name}", PolicyDocument=document)["Policy"]["Arn"]
        {"user": iam.attach_user_policy, "role": iam.attach_role_policy, "group": iam.attach_group_policy}[kind](
            **{key[kind]: name}, PolicyArn=scoped)
        detach[kind](**{key[kind]: name}, PolicyArn=policy["arn"])
    else:
        raise AssertionError(f"no way to apply {action}")


def delete_role(iam, name):
    for p in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        iam.delete_role_policy(RoleName=name, PolicyName=p)
    for p in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
        iam.detach_role_policy(RoleName=name, PolicyArn=p["PolicyArn"])
    iam.delete_role(RoleName=name)


def test_applying_every_recommendation_keeps_what_was_used_and_nothing_else(stack, seeded):
    t = seeded
    _, before = reports_of(stack, t["first"])
    deleted = set()
    for arn, report in before.items():
        for rec in report["recommendations"]:
            apply(stack.iam, rec, arn)  # IAM refusing a document fails the test here
    for arn, report in before.items():
        if recs(report, "DELETE_PRINCIPAL"):
            delete_role(stack.iam, name_of(arn))
            deleted.add(arn)

    stack.control("/moto-api/iam-access-advisor/age", {"days": 0.25})  # the first scan's credential report expires
    second = stack.run(f"recs-2-{t['tag']}", t["input"])
    _, after = reports_of(stack, second)
    assert set(after) == set(before) - deleted, "the deleted roles are gone, nothing else"
    for arn, report in after.items():
        was = {s["namespace"]: s["usage"] for s in before[arn]["services"]}
        now = {s["namespace"]: s["usage"] for s in report["services"]}
        used = {ns for ns, u in was.items() if u == "active"}
        assert used <= {ns for ns, u in now.items() if u == "active"}, (arn, used, now)
        kept = {k["action"].split(":")[0] for r in before[arn]["recommendations"] for k in r.get("kept", [])}
        unused = {ns for ns, u in now.items() if u != "active"}
        assert unused <= kept, f"{arn}: {sorted(unused - kept)} still granted and unused, no reason given"
        left = [r["action"] for r in report["recommendations"] if r["action"] in POLICY_EDITS | CREDENTIALS]
        assert left == [], f"{arn}: a second scan still recommends {left}"
    assert "password" not in after[t["quiet"]]["findings"].get("unused_credentials", []), "the password is gone"
    assert after[t["quiet"]]["credentials"]["access_keys"] == [], "no active key left"


def test_vital_roles_are_never_named_for_deletion(stack):
    """Roles an Organization cannot lose are idle by nature: never DELETE_PRINCIPAL. An
    ordinary idle role with the same policy is."""
    tag = uuid.uuid4().hex[:10]
    path = f"/vital/{tag}/"
    names = ["OrganizationAccountAccessRole", "AWSControlTowerExecution", f"stacksets-exec-{tag}",
             "AWSCloudFormationStackSetExecutionRole", f"ordinary-{tag}"]
    arns = {}
    for name in names:
        arns[name] = stack.iam.create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
        stack.iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=allow("s3:GetObject", "sqs:SendMessage"))
    stack.control("/moto-api/iam-access-advisor/activity", [
        {"entity": arns[name], "service": "s3", "at": ago(200)} for name in names])
    stack.control("/moto-api/iam-access-advisor/config", {"job_seconds": 1.0, "fail": []})
    output = stack.run(f"vital-{tag}", {"discover": {"path_prefix": path, "types": ["role"]}, "poll": POLL,
                                        "report": {"recommendations": True, "min_age_days": 0}})
    _, by_arn = reports_of(stack, output)
    reports = {name_of(arn): r for arn, r in by_arn.items()}
    assert sorted(reports) == sorted(names)
    ordinary = reports[f"ordinary-{tag}"]
    assert recs(ordinary, "DELETE_PRINCIPAL"), ordinary["recommendations"]
    for name in names[:-1]:
        report = reports[name]
        assert recs(report, "DELETE_PRINCIPAL") == [], (name, report["recommendations"])
        why = report.get("recommendations_withheld") or ""
        assert why.startswith("a vital role") and "never DELETE_PRINCIPAL" in why, (name, why)
        assert "role" in report["findings"]["unused_credentials"], "the finding stays"
        policy = recs(report, "UPDATE_POLICY") + recs(report, "DELETE_INLINE_POLICY")
        assert policy and all(r["reason"].startswith("a vital role") for r in policy), (name, report["recommendations"])


def test_a_role_used_within_access_advisors_lag_loses_nothing(stack):
    """Access advisor may be four hours behind RoleLastUsed: a role that used s3 an hour
    before the run, which its report does not show yet, gets no removal of s3 nor of
    anything else, and the report says why."""
    tag = uuid.uuid4().hex[:10]
    path = f"/lag/{tag}/"
    name = f"{tag}-fresh"
    arn = stack.iam.create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    stack.iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=allow("s3:GetObject", "sqs:SendMessage"))
    stack.control("/moto-api/iam-access-advisor/activity", [{"entity": arn, "service": "s3", "at": ago(0)}])
    config = "/moto-api/iam-access-advisor/config"
    stack.control(config, {"advisor_lag_seconds": 4 * 3600, "job_seconds": 1.0, "fail": []})
    try:
        output = stack.run(f"lag-{tag}", {"discover": {"path_prefix": path, "types": ["role"]}, "poll": POLL,
                                          "report": {"recommendations": True, "min_age_days": 0}})
    finally:
        stack.control(config, {"advisor_lag_seconds": 0})
    _, reports = reports_of(stack, output)
    report = reports[arn]
    s3 = next(s for s in report["services"] if s["namespace"] == "s3")
    assert s3["usage"] == "never_used", "access advisor does not show the use yet"
    assert report["recommendations"] == [], report["recommendations"]
    assert report["recommendations_withheld"].startswith("recent_activity: RoleLastUsed"), report["recommendations_withheld"]


# AWS's PowerUserAccess, its NotAction statement (the shape: every service but these).
POWER_USER_SHAPE = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"}]})


def test_a_power_user_role_keeps_what_it_used_and_what_the_report_does_not_list(stack):
    """A role holding PowerUserAccess's shape that used s3, ec2 and lambda: its report
    lists every service but iam, organizations and account, those three active; its
    recommendation takes away only the listed services it did not use, so it keeps s3,
    ec2, lambda and every service the report does not list (kept: not_reported)."""
    tag = uuid.uuid4().hex[:10]
    path = f"/poweruser/{tag}/"
    name = f"{tag}-power"
    arn = stack.iam.create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    stack.iam.put_role_policy(RoleName=name, PolicyName="power", PolicyDocument=POWER_USER_SHAPE)
    used = ["s3", "ec2", "lambda"]
    stack.control("/moto-api/iam-access-advisor/activity",
                  [{"entity": arn, "service": ns, "at": ago(2)} for ns in used])
    stack.control("/moto-api/iam-access-advisor/config", {"job_seconds": 1.0, "fail": []})
    output = stack.run(f"poweruser-{tag}", {"discover": {"path_prefix": path, "types": ["role"]}, "poll": POLL,
                                            "report": {"recommendations": True, "min_age_days": 0}})
    _, reports = reports_of(stack, output)
    report = reports[arn]
    granted = {s["namespace"]: s["usage"] for s in report["services"]}
    assert not {"iam", "organizations", "account"} & set(granted), "NotAction excludes them"
    assert len(granted) > 300, f"every other service: {len(granted)}"
    assert {ns: granted[ns] for ns in used} == {ns: "active" for ns in used}

    [rec] = recs(report, "UPDATE_POLICY")
    statement, *permission_only = rec["recommended_document"]["Statement"]
    excluded = statement["NotAction"]
    # logs' and cloudsearch's permission-only actions (access advisor never sees them)
    # stay, in a statement of their own.
    assert [s["Action"] for s in permission_only] == [[k["action"] for k in rec["kept"]
                                                       if k["reason"] == "permission_only"]]
    assert excluded[:3] == ["iam:*", "organizations:*", "account:*"], excluded[:3]
    assert not {f"{ns}:*" for ns in used} & set(excluded), "what it used stays granted"
    assert set(excluded[3:]) == {f"{ns}:*" for ns, usage in granted.items() if usage != "active"}
    assert {"action": "NotAction", "reason": "not_reported"} in rec["kept"], rec["kept"]
    assert sorted(rec["removes"]["services"]) == sorted(ns for ns, u in granted.items() if u != "active")


READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"


def test_an_aws_managed_policy_is_replaced_by_a_scoped_one_iam_accepts(stack):
    """A role with AWS's ReadOnlyAccess attached (the emulator loads moto's copy of the
    AWS managed policies) that used only s3: REPLACE_AWS_MANAGED_POLICY with a scoped
    customer-managed document of its s3 grants and the permission-only actions it held;
    IAM accepts the document, and a second scan finds s3 still used."""
    tag = uuid.uuid4().hex[:10]
    path = f"/awsmanaged/{tag}/"
    name = f"{tag}-reader"
    arn = stack.iam.create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    stack.iam.attach_role_policy(RoleName=name, PolicyArn=READ_ONLY)
    stack.control("/moto-api/iam-access-advisor/activity", [{"entity": arn, "service": "s3", "at": ago(2)}])
    stack.control("/moto-api/iam-access-advisor/config", {"job_seconds": 1.0, "fail": []})
    run_input = {"discover": {"path_prefix": path, "types": ["role"]}, "poll": POLL,
                 "report": {"recommendations": True, "min_age_days": 0}}
    output = stack.run(f"awsmanaged-{tag}", run_input)
    _, reports = reports_of(stack, output)
    report = reports[arn]
    usage = {s["namespace"]: s["usage"] for s in report["services"]}
    assert usage["s3"] == "active" and len(usage) > 100, len(usage)
    [rec] = recs(report, "REPLACE_AWS_MANAGED_POLICY")
    assert rec["policy"]["kind"] == "aws_managed" and rec["policy"]["arn"] == READ_ONLY, rec["policy"]
    actions = [a for s in rec["recommended_document"]["Statement"] for a in
               ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])]
    kept = {k["action"] for k in rec.get("kept", [])}
    assert actions and all(a.lower().startswith("s3:") or a in kept for a in actions), actions
    assert "s3" not in rec["removes"]["services"] and len(rec["removes"]["services"]) > 100

    apply(stack.iam, rec, arn)  # IAM refusing the scoped document fails the test here
    attached = [p["PolicyArn"] for p in stack.iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]]
    assert READ_ONLY not in attached and len(attached) == 1, attached
    second = stack.run(f"awsmanaged-2-{tag}", run_input)
    _, after = reports_of(stack, second)
    now = {s["namespace"]: s["usage"] for s in after[arn]["services"]}
    assert now["s3"] == "active", now
    assert set(now) <= {"s3"} | {k.split(":")[0] for k in kept}, sorted(now)


def test_the_runs_sensitive_work_files_are_the_stacks_roles_alone(stack, seeded):
    """The bucket policy keeps policy documents, credential facts and stored jobs
    (work/run=…/holdings/, jobs/) from anyone but the stack's roles: an IAM user allowed
    s3:GetObject and s3:ListBucket on * reads a report and the run's progress, not those."""
    import boto3
    from botocore.exceptions import ClientError

    tag = seeded["tag"]
    name = f"{tag}-auditor"
    stack.iam.create_user(UserName=name)
    stack.iam.put_user_policy(UserName=name, PolicyName="read-all", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": "*"}]}))
    key = stack.iam.create_access_key(UserName=name)["AccessKey"]
    auditor = boto3.client("s3", endpoint_url=stack.endpoint, region_name="us-east-1",
                           aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
    run = f"recs-1-{tag}"
    work = f"work/run={run}/"
    sensitive = [k for k in stack.keys(work) if "/holdings/" in k or "/jobs/" in k]
    assert any("/holdings/" in k for k in sensitive) and any("/jobs/" in k for k in sensitive), sensitive
    for k in sensitive:
        with pytest.raises(ClientError) as denied:
            auditor.get_object(Bucket=stack.bucket, Key=k)
        assert denied.value.response["Error"]["Code"] == "AccessDenied", (k, denied.value.response)
    # What an operator needs stays readable: a report, the run's plan and results.
    summary = reports_of(stack, seeded["first"])[0]
    for k in [summary["report_keys"][0], f"{work}plan.json",
              next(k for k in stack.keys(work) if "/results/" in k)]:
        assert auditor.get_object(Bucket=stack.bucket, Key=k)["Body"].read(), k
    # The TLS-only statement holds too: a request over plain HTTP is refused.
    insecure = boto3.client("s3", endpoint_url=stack.endpoint, region_name="us-east-1")
    insecure.meta.events.register("before-sign.s3.*", lambda request, **_: request.headers.__setitem__(
        "X-Emulator-Insecure-Transport", "true"))
    with pytest.raises(ClientError) as plain:
        insecure.get_object(Bucket=stack.bucket, Key=summary["report_keys"][0])
    assert plain.value.response["Error"]["Code"] == "AccessDenied"
