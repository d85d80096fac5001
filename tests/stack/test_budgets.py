"""Every invocation fits its own deadline, whatever Timeout the template gives the
functions: the template states the Timeout once (Globals) and tells the functions the same
number (FUNCTION_TIMEOUT_SECONDS), each invocation gets its real deadline from the local
Lambda bridge, and Plan cuts batches from the Timeout. Proved on a copy of the template
whose functions all stop at 60 s (its own local stack: the ports of
test_template_copies.py)."""

from __future__ import annotations

import copy
import json
import os

import pytest

from conftest import ROOT, unique
from test_template_copies import deployed, local_stack


def functions(template: dict) -> dict:
    return {k: r for k, r in template["Resources"].items() if r.get("Type") == "AWS::Serverless::Function"}


def timeouts(template: dict) -> tuple:
    """(the Globals' Timeout, the FUNCTION_TIMEOUT_SECONDS it passes), checking that no
    function sets either of its own: one number for every function."""
    function = template["Globals"]["Function"]
    told = function["Environment"]["Variables"]["FUNCTION_TIMEOUT_SECONDS"]
    for name, resource in functions(template).items():
        props = resource["Properties"]
        assert "Timeout" not in props, f"{name} sets its own Timeout"
        assert "FUNCTION_TIMEOUT_SECONDS" not in ((props.get("Environment") or {}).get("Variables") or {}), name
    return function["Timeout"], told


def with_timeout(template: dict, seconds: int, told: bool = True) -> dict:
    """A copy whose functions all have Timeout `seconds`; `told`: FUNCTION_TIMEOUT_SECONDS
    says so too (else it keeps the original's number)."""
    out = copy.deepcopy(template)
    out["Globals"]["Function"]["Timeout"] = seconds
    if told:
        out["Globals"]["Function"]["Environment"]["Variables"]["FUNCTION_TIMEOUT_SECONDS"] = str(seconds)
    return out


def test_the_template_states_the_functions_timeout_once_and_tells_them():
    template = local_stack.load_template(os.path.join(ROOT, "infra", "template.yaml"))
    timeout, told = timeouts(template)
    assert isinstance(timeout, int), "a literal, not a parameter"
    assert told == str(timeout), (timeout, told)
    assert timeout == 900
    assert timeouts(with_timeout(template, 60)) == (60, "60")


def roles(stack, run: str, n: int) -> str:
    """`n` roles under a path of their own: the path prefix that discovers them."""
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    path = f"/budget/{run}/"
    for i in range(n):
        stack.iam.create_role(RoleName=f"{run}-{i}", Path=path, AssumeRolePolicyDocument=trust)
    return path


@pytest.mark.parametrize("told", [False], ids=["timeout-alone"])
def test_functions_that_stop_at_60_s_scan_300_roles_asked_in_one_batch(tmp_path, told):
    """300 roles asked in batches of 500 at 2 IAM requests/s: one batch would be 150 s of
    Generate's calls alone. Plan cuts batches from the functions' 60 s (40 s of paced
    calls: 80 calls, 3 a principal at most, so 26), and every report is COMPLETED, on the
    copy that changed the Timeout alone (FUNCTION_TIMEOUT_SECONDS still 900): the bridge
    tells each invocation its real deadline, and Plan's own is 60 s away. (A copy that
    also tells FUNCTION_TIMEOUT_SECONDS is cut the same: the handler tests cut batches
    from a 60 s Timeout either way; one scan here keeps CI within its time.)"""
    template = with_timeout(local_stack.load_template(os.path.join(ROOT, "infra", "template.yaml")), 60, told)
    with deployed(tmp_path, "timeout-60", template) as stack:
        plan = stack.function("PlanFunction")
        assert stack.lam.get_function_configuration(FunctionName=plan)["Timeout"] == 60
        run = unique("budget")
        path = roles(stack, run, 300)
        stack.control("config", {"job_seconds": 1.0, "fail": [], "deny": []})
        described = stack.run(run, {
            "discover": {"types": ["role"], "path_prefix": path},
            "batch_size": 500,
            "iam_requests_per_second": 2,
            "poll": {"initial_wait_seconds": 2, "max_wait_seconds": 5},
        }, timeout=1500)
        assert described["status"] == "SUCCEEDED", described.get("cause")
        assert json.loads(described["output"])["by_status"] == {"COMPLETED": 300}
        record = json.loads(stack.s3.get_object(Bucket=stack.bucket, Key=f"work/run={run}/plan.json")["Body"].read())
        assert (record["batch_size_requested"], record["batch_size"]) == (500, 26), record
