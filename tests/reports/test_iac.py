"""IaC-ready recommendations on the local stack: a run with recommendations of every
kind, then the real `ila recommendations RUN --iac terraform|cloudformation --write DIR`.
The Terraform is parsed by python-hcl2 (every file, and stdout as one configuration) and
each policy's `jsonencode(...)` is evaluated back to JSON; the CloudFormation passes
cfn-lint. What a user relies on is asserted: resource types and names, the documents
round-trip to the recommended JSON (policy variables included), the import ids, and
before/ holds the document IAM had at scan time."""
import json
import os
import subprocess
import uuid

import hcl2
import pytest
import yaml

from conftest import ROOT
from helpers import ago, allow, reports_of

POLL = {"initial_wait_seconds": 1, "max_wait_seconds": 1, "max_attempts": 30}
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
MIXED = {"Version": "2012-10-17", "Statement": [
    {"Sid": "Work", "Effect": "Allow", "Action": ["s3:GetObject", "ec2:DescribeInstances", "sns:Publish"], "Resource": "*",
     "Condition": {"Bool": {"aws:SecureTransport": "true"}, "NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}},
    {"Sid": "Never", "Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"}]}
# A policy variable: Terraform would interpolate "${aws:username}" unless it is escaped.
HOME = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["s3:GetObject", "sqs:SendMessage"], "Resource": "arn:aws:s3:::home/${aws:username}/*"}]}
HCL = hcl2.SerializationOptions(with_comments=False, strip_string_quotes=True)


def ila(*args):
    binary = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "debug", "ila")
    out = subprocess.run([binary, *args], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out


@pytest.fixture(scope="module")
def run(stack):
    tag = uuid.uuid4().hex[:10]
    path = f"/iac/{tag}/"
    iam = stack.iam
    stack.control("/moto-api/iam-access-advisor/age", {"days": 0.25})  # an earlier test's credential report expires
    t = {"tag": tag, "path": path}

    def role(name):
        t[name] = iam.create_role(RoleName=f"{tag}-{name}", Path=path, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]

    role("mixed")
    iam.put_role_policy(RoleName=f"{tag}-mixed", PolicyName="mixed-inline", PolicyDocument=json.dumps(MIXED))
    role("reader")
    iam.attach_role_policy(RoleName=f"{tag}-reader", PolicyArn=READ_ONLY)
    role("idle")
    role("busy")
    t["shared"] = iam.create_policy(PolicyName=f"{tag}-shared", Path=path, PolicyDocument=allow("dynamodb:*", "kms:Decrypt"))["Policy"]["Arn"]
    for r in ("idle", "busy"):
        iam.attach_role_policy(RoleName=f"{tag}-{r}", PolicyArn=t["shared"])
    t["home"] = iam.create_user(UserName=f"{tag}-home", Path=path)["User"]["Arn"]
    iam.put_user_policy(UserName=f"{tag}-home", PolicyName="home-inline", PolicyDocument=json.dumps(HOME))
    t["team"] = iam.create_group(GroupName=f"{tag}-team", Path=path)["Group"]["Arn"]
    iam.put_group_policy(GroupName=f"{tag}-team", PolicyName="team-inline", PolicyDocument=allow("s3:*", "sns:*"))
    iam.add_user_to_group(GroupName=f"{tag}-team", UserName=f"{tag}-home")
    t["quiet"] = iam.create_user(UserName=f"{tag}-quiet", Path=path)["User"]["Arn"]
    iam.put_user_policy(UserName=f"{tag}-quiet", PolicyName="quiet-inline", PolicyDocument=allow("sqs:*"))
    iam.create_login_profile(UserName=f"{tag}-quiet", Password="Correct-Horse-9-Battery")
    t["quiet_key"] = iam.create_access_key(UserName=f"{tag}-quiet")["AccessKey"]["AccessKeyId"]
    stack.control("/moto-api/iam-access-advisor/activity", [
        {"entity": t["mixed"], "service": "s3", "at": ago(10)},
        {"entity": t["mixed"], "service": "ec2", "at": ago(200)},
        {"entity": t["reader"], "service": "s3", "at": ago(2)},
        {"entity": t["busy"], "service": "dynamodb", "at": ago(4)},
        {"entity": t["home"], "service": "s3", "at": ago(3)},
    ])
    stack.control("/moto-api/iam-access-advisor/config", {"job_seconds": 1.0, "fail": []})
    t["run"] = f"iac-{tag}"
    output = stack.run(t["run"], {"discover": {"path_prefix": path}, "poll": POLL,
                                  "report": {"recommendations": True, "min_age_days": 0}})
    _, t["reports"] = reports_of(stack, output)
    return t


def recommendation(t, who, action):
    [r] = [r for r in t["reports"][t[who]]["recommendations"] if r["action"] == action]
    return r


def unescape(v):
    """HCL's template escapes in a parsed literal: `$${` is `${`, `%%{` is `%{`
    (python-hcl2 decodes the backslash escapes only)."""
    if isinstance(v, str):
        return v.replace("$${", "${").replace("%%{", "%{")
    if isinstance(v, list):
        return [unescape(x) for x in v]
    if isinstance(v, dict):
        return {k: unescape(x) for k, x in v.items()}
    return v


def jsonencoded(expression):
    """The JSON that `jsonencode({...})` stands for: the object parsed as HCL."""
    assert expression.startswith("${jsonencode(") and expression.endswith(")}"), expression
    return unescape(hcl2.loads("x = " + expression[len("${jsonencode("):-2], serialization_options=HCL)["x"])


def resources(config):
    """{(type, name): attributes} of a parsed configuration."""
    return {(kind, name): body for block in config.get("resource", []) for kind, named in block.items()
            for name, body in named.items()}


def imports(config):
    return {block["to"]: block["id"] for block in config.get("import", [])}


def test_terraform_parses_and_holds_each_recommended_document(run, tmp_path):
    t, tag = run, run["tag"]
    out = ila("recommendations", t["run"], "--iac", "terraform", "--write", str(tmp_path))
    whole = hcl2.loads(out.stdout, serialization_options=HCL)  # stdout is one configuration
    assert "wrote " in out.stderr and "resource" not in out.stderr, out.stderr
    count = sum(len(r["recommendations"]) for r in t["reports"].values())
    files = sorted(p for p in tmp_path.rglob("*.tf") if p.parent.name != "before")
    assert len(files) == count == 10, [str(p.relative_to(tmp_path)) for p in files]
    parsed = {p.relative_to(tmp_path).as_posix(): hcl2.load(open(p), serialization_options=HCL)
              for p in tmp_path.rglob("*.tf")}

    mixed = parsed[f"role-{tag}-mixed/inline-mixed-inline.tf"]
    name = f"role_{tag}-mixed_mixed-inline"
    block = resources(mixed)[("aws_iam_role_policy", name)]
    assert (block["name"], block["role"]) == ("mixed-inline", f"{tag}-mixed")
    recommended = recommendation(t, "mixed", "UPDATE_POLICY")["recommended_document"]
    assert jsonencoded(block["policy"]) == recommended
    assert json.loads((tmp_path / f"role-{tag}-mixed" / "inline-mixed-inline.json").read_text()) == recommended
    assert imports(mixed) == {f"${{aws_iam_role_policy.{name}}}": f"{tag}-mixed:mixed-inline"}
    # before/: what IAM held at scan time, as JSON and as the same resource.
    assert json.loads((tmp_path / f"role-{tag}-mixed" / "before" / "inline-mixed-inline.json").read_text()) == MIXED
    before = parsed[f"role-{tag}-mixed/before/inline-mixed-inline.tf"]
    assert jsonencoded(resources(before)[("aws_iam_role_policy", name)]["policy"]) == MIXED

    home = parsed[f"user-{tag}-home/inline-home-inline.tf"]
    block = resources(home)[("aws_iam_user_policy", f"user_{tag}-home_home-inline")]
    assert block["user"] == f"{tag}-home"
    document = jsonencoded(block["policy"])
    assert document == recommendation(t, "home", "UPDATE_POLICY")["recommended_document"]
    assert document["Statement"][0]["Resource"] == "arn:aws:s3:::home/${aws:username}/*", "the policy variable reaches IAM as written"
    assert "$${aws:username}" in (tmp_path / f"user-{tag}-home" / "inline-home-inline.tf").read_text()

    team = resources(parsed[f"group-{tag}-team/inline-team-inline.tf"])[("aws_iam_group_policy", f"group_{tag}-team_team-inline")]
    assert team["group"] == f"{tag}-team"
    assert jsonencoded(team["policy"]) == recommendation(t, "team", "UPDATE_POLICY")["recommended_document"]

    shared = parsed[f"policy-{tag}-shared/managed-{tag}-shared.tf"]
    policy_name = f"policy_{tag}-shared"
    block = resources(shared)[("aws_iam_policy", policy_name)]
    assert (block["name"], block["path"]) == (f"{tag}-shared", t["path"])
    assert jsonencoded(block["policy"]) == recommendation(t, "shared", "UPDATE_POLICY")["recommended_document"]
    assert imports(shared) == {f"${{aws_iam_policy.{policy_name}}}": t["shared"]}

    reader = resources(parsed[f"role-{tag}-reader/aws_managed-ReadOnlyAccess.tf"])
    scoped = f"ReadOnlyAccess-scoped-{tag}-reader"
    assert jsonencoded(reader[("aws_iam_policy", f"policy_{scoped}")]["policy"]) == \
        recommendation(t, "reader", "REPLACE_AWS_MANAGED_POLICY")["recommended_document"]
    assert reader[("aws_iam_role_policy_attachment", f"role_{tag}-reader_{scoped}")] == {
        "__is_block__": True, "role": f"{tag}-reader", "policy_arn": f"${{aws_iam_policy.policy_{scoped}.arn}}"}

    key = parsed[f"user-{tag}-quiet/access-key-{t['quiet_key']}.tf"]
    assert resources(key)[("aws_iam_access_key", f"user_{tag}-quiet_{t['quiet_key']}")]["status"] == "Inactive"
    assert list(imports(key).values()) == [t["quiet_key"]]

    # What Terraform can't add: comments only, naming the block and the CLI command.
    for path, says in [(f"role-{tag}-idle/delete-principal.tf", f"aws iam delete-role --role-name {tag}-idle"),
                       (f"role-{tag}-idle/managed-{tag}-shared.tf", f"aws iam detach-role-policy --role-name {tag}-idle --policy-arn {t['shared']}"),
                       (f"user-{tag}-quiet/inline-quiet-inline.tf", f"aws iam delete-user-policy --user-name {tag}-quiet --policy-name quiet-inline"),
                       (f"user-{tag}-quiet/console-password.tf", f"aws iam delete-login-profile --user-name {tag}-quiet")]:
        assert not resources(parsed[path]), path
        assert f"By hand: {says}" in (tmp_path / path).read_text(), path

    # stdout holds every resource of the files, under names unique across principals.
    assert set(resources(whole)) == {k for p, c in parsed.items() if "/before/" not in p for k in resources(c)}



def cfn_lint(*paths):
    """cfn-lint as infra/lint.sh runs it (the SAM venv `make setup` makes)."""
    lint = os.path.join(ROOT, ".venv-sam", "bin", "cfn-lint")
    if not os.path.exists(lint):
        pytest.fail(f"{lint} is missing: run `make setup`", pytrace=False)
    out = subprocess.run([lint, "--", *map(str, paths)], capture_output=True, text=True,
                         env={**os.environ, "AWS_DEFAULT_REGION": "us-east-1"})
    assert out.returncode == 0, out.stdout + out.stderr  # no error, no warning


def template_resources(path):
    return yaml.safe_load(open(path))["Resources"]


def test_cloudformation_lints_and_holds_each_recommended_document(run, tmp_path):
    t, tag = run, run["tag"]
    out = ila("recommendations", t["run"], "--iac", "cloudformation", "--write", str(tmp_path / "out"))
    whole = tmp_path / "whole.yaml"
    whole.write_text(out.stdout)
    out_dir = tmp_path / "out"
    templates = sorted(out_dir.rglob("*.cfn.yaml"))
    notes = sorted(out_dir.rglob("*.cfn.txt"))
    # Five recommendations are resources (four updates and the scoped replacement), each
    # update with its before/ copy; five are what to change in your template.
    assert len([p for p in templates if p.parent.name != "before"]) == 5, templates
    assert len([p for p in templates if p.parent.name == "before"]) == 4, templates
    assert len(notes) == 5, notes
    cfn_lint(whole, *templates)

    by_type = {}
    for p in templates:
        if p.parent.name != "before":
            for r in template_resources(p).values():
                by_type.setdefault(r["Type"], []).append(r["Properties"])
    [mixed] = [r for r in by_type["AWS::IAM::RolePolicy"] if r["RoleName"] == f"{tag}-mixed"]
    assert mixed["PolicyName"] == "mixed-inline"
    assert mixed["PolicyDocument"] == recommendation(t, "mixed", "UPDATE_POLICY")["recommended_document"]
    [home] = by_type["AWS::IAM::UserPolicy"]
    assert (home["UserName"], home["PolicyName"]) == (f"{tag}-home", "home-inline")
    assert home["PolicyDocument"]["Statement"][0]["Resource"] == "arn:aws:s3:::home/${aws:username}/*"
    [team] = by_type["AWS::IAM::GroupPolicy"]
    assert team["GroupName"] == f"{tag}-team"
    assert team["PolicyDocument"] == recommendation(t, "team", "UPDATE_POLICY")["recommended_document"]
    managed = {r["ManagedPolicyName"]: r for r in by_type["AWS::IAM::ManagedPolicy"]}
    assert managed[f"{tag}-shared"]["Path"] == t["path"]
    assert managed[f"{tag}-shared"]["PolicyDocument"] == recommendation(t, "shared", "UPDATE_POLICY")["recommended_document"]
    scoped = managed[f"ReadOnlyAccess-scoped-{tag}-reader"]
    assert scoped["Roles"] == [f"{tag}-reader"], "the replacement attaches itself"
    assert scoped["PolicyDocument"] == recommendation(t, "reader", "REPLACE_AWS_MANAGED_POLICY")["recommended_document"]

    before = template_resources(out_dir / f"role-{tag}-mixed" / "before" / "inline-mixed-inline.cfn.yaml")
    assert [r["Properties"]["PolicyDocument"] for r in before.values()] == [MIXED], "the document IAM held at scan time"
    assert json.loads((out_dir / f"role-{tag}-mixed" / "before" / "inline-mixed-inline.json").read_text()) == MIXED

    # The whole template holds every resource of the files, under unique logical ids.
    files = [r for p in templates if p.parent.name != "before" for r in template_resources(p).values()]
    assert sorted(map(json.dumps, template_resources(whole).values())) == sorted(map(json.dumps, files))

    key = (out_dir / f"user-{tag}-quiet" / f"access-key-{t['quiet_key']}.cfn.txt").read_text()
    assert "set Status: Inactive on the AWS::IAM::AccessKey" in key
    assert f"By hand: aws iam update-access-key --user-name {tag}-quiet --access-key-id {t['quiet_key']} --status Inactive" in key
    detach = (out_dir / f"role-{tag}-idle" / f"managed-{tag}-shared.cfn.txt").read_text()
    assert f"remove {t['shared']} from the ManagedPolicyArns of the AWS::IAM::Role {tag}-idle" in detach


def test_iac_json_output_carries_each_files_code(run):
    t = run
    out = ila("--output", "json", "recommendations", t["run"], "--iac", "terraform", "--arn", t["mixed"])
    [principal] = json.loads(out.stdout)
    assert principal["arn"] == t["mixed"] and len(principal["recommendations"]) == 1
    [code] = principal["iac"]
    assert (code["action"], code["file"]) == ("UPDATE_POLICY", "inline-mixed-inline.tf")
    parsed = hcl2.loads(code["code"], serialization_options=HCL)
    [(kind, _)] = resources(parsed)
    assert kind == "aws_iam_role_policy"
    plain = ila("--output", "json", "recommendations", t["run"], "--arn", t["mixed"])
    assert "iac" not in json.loads(plain.stdout)[0], "without --iac the JSON is as before"
