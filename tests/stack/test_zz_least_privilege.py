"""Least privilege, checked against what really happened: with IAM enforced, the emulator
records every action each role was allowed. Run last (after the e2e suite and the other
stack tests, hence the file name): every action the template grants a role was used, or
has a stated reason below. A stale reason (the action is used after all, or no longer
granted) fails too, so this list stays true."""

from __future__ import annotations

import fnmatch
import json
import urllib.parse

# (role's logical id, granted action) -> why the e2e suite does not use it.
REASONS = {
    **{(role, action): "the Lambda service writes the function's logs; the local runtime logs to files"
       for role in ("PlanFunctionRole", "GenerateFunctionRole", "CheckFunctionRole", "WriteFunctionRole",
                    "SummarizeFunctionRole")
       for action in ("logs:CreateLogStream", "logs:PutLogEvents")},
    **{("PlanFunctionRole", action): "one tag read per principal, used only when a tag filter's path prefix "
       "narrows the listing below the cost of GetAccountAuthorizationDetails pages; the e2e tag filter "
       "covers the account, so it reads tags in bulk (the adapter tests cover the per-principal reads)"
       for action in ("iam:ListUserTags", "iam:ListRoleTags")},
    ("SummarizeFunctionRole", "s3:AbortMultipartUpload"):
        "Summarize aborts its streamed uploads only when it fails midway through one (the handler tests "
        "provoke it); an e2e run that fails so is not provoked",
    ("PlanFunctionRole", "iam:ListPolicyTags"):
        "read only when a tag filter includes customer-managed policies (GAAD carries no policy tags); "
        "the e2e tag filter selects roles",
    **{("StateMachineRole", action): "Distributed Map children: moto runs them inline, so Step Functions "
       "never calls these on the state machine's behalf here"
       for action in ("states:StartExecution", "states:DescribeExecution", "states:StopExecution",
                      "states:RedriveExecution")},
    **{("StateMachineRole", action): "Step Functions' log delivery to CloudWatch Logs is not emulated"
       for action in ("logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery",
                      "logs:DeleteLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy",
                      "logs:DescribeResourcePolicies", "logs:DescribeLogGroups")},
    **{("StateMachineRole", action): "X-Ray tracing (SAM's AWSXrayWriteOnlyAccess) is not emulated"
       for action in ("xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules",
                      "xray:GetSamplingTargets", "xray:GetSamplingStatisticSummaries")},
    **{(role, "s3:ListBucket"): f"never called: it lets S3 answer {step}'s GetObject of a missing "
       "key with NoSuchKey instead of AccessDenied (S3's rule for callers without s3:ListBucket); moto "
       "answers NoSuchKey to everyone"
       for role, step in (("WriteFunctionRole", "Write"), ("GenerateFunctionRole", "Generate"))},
    ("SchedulerRole", "states:StartExecution"): "EventBridge Scheduler is not emulated (the schedule is a placeholder)",
    ("SchedulerRole", "sqs:SendMessage"): "EventBridge Scheduler is not emulated (the schedule's DLQ is never used)",
}


def documents(stack, role_name: str):
    """Every policy document attached to a role: inline and managed."""
    iam = stack.iam
    for name in iam.list_role_policies(RoleName=role_name)["PolicyNames"]:
        doc = iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"]
        yield json.loads(urllib.parse.unquote(doc)) if isinstance(doc, str) else doc
    for attached in iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]:
        policy = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]
        version = iam.get_policy_version(PolicyArn=attached["PolicyArn"], VersionId=policy["DefaultVersionId"])
        doc = version["PolicyVersion"]["Document"]
        yield json.loads(urllib.parse.unquote(doc)) if isinstance(doc, str) else doc


def granted_actions(stack, role_name: str) -> set[str]:
    actions = set()
    for doc in documents(stack, role_name):
        statements = doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]
        for st in statements:
            if st.get("Effect") != "Allow":
                continue
            listed = st.get("Action", [])
            actions.update([listed] if isinstance(listed, str) else listed)
    return actions


def used(pattern: str, actions) -> bool:
    return any(fnmatch.fnmatchcase(a.lower(), pattern.lower()) for a in actions)


def test_every_granted_action_is_used_or_has_a_stated_reason(stack):
    record = stack.control("authz")
    assert record["enforced"], "the local stack runs with IAM enforced"
    roles = stack.resources("AWS::IAM::Role")
    assert {"PlanFunctionRole", "GenerateFunctionRole", "CheckFunctionRole", "WriteFunctionRole",
            "SummarizeFunctionRole", "ReaderRole", "StateMachineRole"} <= set(roles), roles
    unexplained, stale = [], []
    for logical, name in sorted(roles.items()):
        arn = stack.iam.get_role(RoleName=name)["Role"]["Arn"]
        done = record["allowed"].get(arn, {})
        for action in sorted(granted_actions(stack, name)):
            reason = REASONS.get((logical, action))
            if used(action, done):
                if reason:
                    stale.append(f"{logical}: {action} is used, yet has a reason: {reason}")
            elif not reason:
                unexplained.append(f"{logical}: {action} granted, never used, no stated reason")
    for (logical, action) in REASONS:
        if logical in roles and action not in granted_actions(stack, roles[logical]):
            stale.append(f"{logical}: {action} has a reason but is not granted")
    assert not unexplained and not stale, "\n".join(unexplained + stale)


def test_no_function_role_was_refused_during_the_suite(stack):
    """The template lacks nothing the functions need: the only refusals recorded are the
    ones tests provoke on purpose (an explicit Deny they attach, the `deny` config, or an
    account without the member role)."""
    record = stack.control("authz")
    roles = stack.resources("AWS::IAM::Role")
    arns = {stack.iam.get_role(RoleName=name)["Role"]["Arn"]: logical for logical, name in roles.items()}
    # tests/reports/test_organization.py scans a member account without the member role
    # on purpose: that AssumeRole is refused by the account (no role, so no trust policy).
    provoked = [d for d in record["denied"] if d["action"] == "sts:AssumeRole"
                and d["resource"].endswith(":role/iam-last-accessed-member")
                and "no resource-based policy allows" in d["message"]]
    unexpected = [d for d in record["denied"] if d["principal"] in arns
                  and "explicit deny" not in d["message"] and d not in provoked]
    assert not unexpected, json.dumps(unexpected, indent=1)
