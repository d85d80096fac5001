"""The template users deploy is what the tests run, with IAM enforced: so a permission
missing from infra/template.yaml fails a scan with AccessDenied. Proved here by removing
one action from a copy of the template, deploying the copy as a local stack of its own
(its own emulator, ports and state directory), and running a scan on it.

These tests bring their stacks up and down themselves; they need the ports
EMULATOR_PORT_COPIES (5300) and LAMBDA_PORT_COPIES (9300..9304) free."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT, Stack, summary_key, unique

sys.path.insert(0, os.path.join(ROOT, "tests", "local"))
import stack as local_stack  # noqa: E402  (tests/local/stack.py: the template loader)

PYTHON = os.path.join(ROOT, ".venv", "bin", "python")
EMULATOR_PORT = int(os.environ.get("EMULATOR_PORT_COPIES", "5300"))
LAMBDA_PORT = int(os.environ.get("LAMBDA_PORT_COPIES", "9300"))


def without_action(template: dict, resource: str, policy_name: str, action: str) -> dict:
    """The template with `action` removed from one inline policy of one role: the edit a
    careless change would make. Fails if the action is not there (the test would prove nothing)."""
    removed = 0
    for policy in template["Resources"][resource]["Properties"]["Policies"]:
        if not isinstance(policy, dict) or policy.get("PolicyName") != policy_name:
            continue
        for statement in policy["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if action in actions:
                statement["Action"] = [a for a in actions if a != action]
                removed += 1
    assert removed, f"{action} is not in {resource}/{policy_name}"
    return template


@contextlib.contextmanager
def deployed(tmp_path, name: str, template: dict):
    """Brings a local stack up from `template`; yields its Stack; brings it down."""
    local_dir = tmp_path / f"local-{name}"
    local_dir.mkdir()
    copy = local_dir / "template.json"
    copy.write_text(json.dumps(template, indent=1))
    env = dict(os.environ, LOCAL_DIR=str(local_dir), EMULATOR_PORT=str(EMULATOR_PORT),
               LAMBDA_PORT=str(LAMBDA_PORT), IAM_PAGE_SIZE="100")
    for key in ("STATE_MACHINE_ARN", "REPORT_BUCKET", "AWS_ENDPOINT_URL"):
        env.pop(key, None)
    up = subprocess.run([PYTHON, "tests/local/stack.py", "up", "--template", str(copy)], cwd=ROOT, env=env,
                        capture_output=True, text=True, timeout=900)
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        settings = {}
        for line in (local_dir / "env").read_text().splitlines():
            key, _, value = line.removeprefix("export ").partition("=")
            settings[key] = value
        yield Stack(settings)
    finally:
        subprocess.run([PYTHON, "tests/local/stack.py", "down"], cwd=ROOT, env=env, capture_output=True, timeout=120)


@pytest.fixture
def original():
    return local_stack.load_template(os.path.join(ROOT, "infra", "template.yaml"))


def test_a_reader_without_one_action_fails_the_scan_with_access_denied(tmp_path, original):
    template = without_action(original, "ReaderRole", "access-advisor-read", "iam:GetServiceLastAccessedDetails")
    with deployed(tmp_path, "reader", template) as stack:
        reader = stack.settings["READER_ROLE_ARN"]
        described = stack.run(unique("copy-reader"), {"arns": [reader]})
        assert described["status"] == "FAILED"
        assert described["error"] == "AccessDenied", described.get("cause")
        assert "iam:GetServiceLastAccessedDetails" in described["cause"]
        assert stack.control("authz")["denied"], "the emulator recorded the refusal"


def test_write_without_one_action_fails_the_scan_with_access_denied(tmp_path, original):
    template = without_action(original, "WriteFunctionRole", "reports-and-results", "s3:GetObject")
    with deployed(tmp_path, "write", template) as stack:
        reader = stack.settings["READER_ROLE_ARN"]
        described = stack.run(unique("copy-write"), {"arns": [reader],
                                                     "poll": {"initial_wait_seconds": 1, "max_wait_seconds": 1}})
        assert described["status"] == "FAILED"
        assert described["error"] == "IncompleteRun", described.get("cause")
        key = summary_key(described["cause"])
        summary = json.loads(stack.s3.get_object(Bucket=stack.bucket, Key=key)["Body"].read())
        [missing] = summary["missing"]
        assert missing["arn"] == reader
        assert missing["error"] == "StorageError"
        assert "AccessDenied" in missing["reason"] and "s3:GetObject" in missing["reason"], missing


def test_the_unmodified_template_scans_cleanly(tmp_path, original):
    """The control: the same path with nothing removed succeeds, so the failures above
    come from the missing action alone."""
    with deployed(tmp_path, "control", original) as stack:
        reader = stack.settings["READER_ROLE_ARN"]
        described = stack.run(unique("copy-control"), {"arns": [reader],
                                                       "poll": {"initial_wait_seconds": 1, "max_wait_seconds": 1}})
        assert described["status"] == "SUCCEEDED", described.get("cause")
        assert json.loads(described["output"])["by_status"] == {"COMPLETED": 1}
