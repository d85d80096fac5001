"""A Lambda that times out is retried and then caught like any other error: its batch is
that batch's outcome, and the summary names each principal without a report and why."""

from __future__ import annotations

import json

from conftest import summary_key, unique


def roles(stack, run, n):
    """`n` roles of their own path for the run `run`: their ARNs."""
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    return [stack.iam.create_role(RoleName=f"{run}-{i}", Path=f"/stack/{run}/",
                                  AssumeRolePolicyDocument=trust)["Role"]["Arn"] for i in range(n)]


def test_a_generate_that_times_out_fails_its_batch_and_is_named(stack):
    run = unique("timeout")
    arns = roles(stack, run, 14)
    generate = stack.function("GenerateFunction")
    before = stack.lam.get_function_configuration(FunctionName=generate)["Timeout"]
    assert before == 900, "the template gives every function Lambda's maximum"
    # 14 principals at 0.5 IAM requests/s (burst 10) take ~8 s: more than a 3 s timeout.
    stack.lam.update_function_configuration(FunctionName=generate, Timeout=3)
    try:
        stack.control("config", {"job_seconds": 0.0, "fail": [], "deny": []})
        described = stack.run(run, {"arns": arns, "iam_requests_per_second": 0.5})
    finally:
        stack.lam.update_function_configuration(FunctionName=generate, Timeout=before)
    assert described["status"] == "FAILED"
    assert described["error"] == "IncompleteRun", described.get("cause")
    summary = json.loads(stack.s3.get_object(Bucket=stack.bucket, Key=summary_key(described["cause"]))["Body"].read())
    assert summary["status"] == "INCOMPLETE"
    assert summary["counts"]["reports_written"] == 0
    assert sorted(m["arn"] for m in summary["missing"]) == sorted(arns)
    assert {m["error"] for m in summary["missing"]} == {"Sandbox.Timedout"}
    assert "Task timed out after 3.00 seconds" in summary["missing"][0]["reason"]


def test_a_batch_task_that_times_out_in_step_functions_is_a_failed_batch(stack):
    """The Task's own TimeoutSeconds (not Lambda's) ends a Generate as States.Timeout: the
    child records the failure and ends BatchFailed (a Fail state may not carry a States.*
    name), so the run is IncompleteRun with the principals named, never States.Runtime."""
    run = unique("task-timeout")
    arns = roles(stack, run, 14)
    described = stack.sfn.describe_state_machine(stateMachineArn=stack.state_machine)
    definition = json.loads(described["definition"])
    batch = definition["States"]["ScanAccounts"]["ItemProcessor"]["States"]["ScanBatches"]["ItemProcessor"]["States"]
    assert batch["Generate"]["TimeoutSeconds"] > 900, "longer than the function's own Timeout"
    # 14 principals at 0.5 IAM requests/s (burst 10) take ~8 s: more than a 3 s Task.
    batch["Generate"]["TimeoutSeconds"] = 3
    stack.sfn.update_state_machine(stateMachineArn=stack.state_machine, definition=json.dumps(definition))
    try:
        stack.control("config", {"job_seconds": 0.0, "fail": [], "deny": []})
        described_run = stack.run(run, {"arns": arns, "iam_requests_per_second": 0.5})
    finally:
        stack.sfn.update_state_machine(stateMachineArn=stack.state_machine, definition=described["definition"])
    assert described_run["status"] == "FAILED"
    assert described_run["error"] == "IncompleteRun", (described_run.get("error"), described_run.get("cause"))
    summary = json.loads(stack.s3.get_object(Bucket=stack.bucket, Key=summary_key(described_run["cause"]))["Body"].read())
    assert summary["status"] == "INCOMPLETE"
    assert sorted(m["arn"] for m in summary["missing"]) == sorted(arns)
    assert {m["error"] for m in summary["missing"]} == {"States.Timeout"}, summary["missing"][0]
