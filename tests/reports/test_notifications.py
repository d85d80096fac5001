"""Security Hub findings and the Scan Finished event, on the local stack (deployed with
SecurityHubFindings true, the account's Security Hub enabled at `up`): what a security
team reads back with GetFindings, and what an EventBridge rule on the default bus
delivers to an SQS queue (docs/notifications.md)."""
import json
import time
import uuid

import boto3
import pytest

from helpers import ago, allow

GENERATOR = "iam-last-accessed/unused-access"
POLL = {"initial_wait_seconds": 1, "max_wait_seconds": 1, "max_attempts": 30}


def client(stack, service):
    return boto3.client(service, endpoint_url=stack.endpoint, region_name="us-east-1")


def findings_of(hub, arn):
    """Our findings about `arn`, as a security team reads them back (every page)."""
    filters = {"ResourceId": [{"Value": arn, "Comparison": "EQUALS"}],
               "GeneratorId": [{"Value": GENERATOR, "Comparison": "EQUALS"}]}
    out, token = [], None
    while True:
        page = hub.get_findings(Filters=filters, MaxResults=100, **({"NextToken": token} if token else {}))
        out += page["Findings"]
        token = page.get("NextToken")
        if not token:
            return out


@pytest.fixture(scope="module")
def roles(stack):
    """A role with a stale service (ec2, 200 days) beside a used one (s3), and a role that
    used everything it is granted."""
    tag = uuid.uuid4().hex[:10]
    path = f"/hub/{tag}/"
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    arns = {}
    for name, actions in (("stale", ("s3:GetObject", "ec2:DescribeInstances")), ("clean", ("s3:GetObject",))):
        arns[name] = stack.iam.create_role(RoleName=f"{tag}-{name}", Path=path,
                                           AssumeRolePolicyDocument=trust)["Role"]["Arn"]
        stack.iam.put_role_policy(RoleName=f"{tag}-{name}", PolicyName="work", PolicyDocument=allow(*actions))
    stack.control("/moto-api/iam-access-advisor/activity", [
        {"entity": arns["stale"], "service": "s3", "action": "GetObject", "region": "eu-west-1", "at": ago(5)},
        {"entity": arns["stale"], "service": "ec2", "action": "DescribeInstances", "region": "eu-west-1", "at": ago(200)},
        {"entity": arns["clean"], "service": "s3", "action": "GetObject", "region": "eu-west-1", "at": ago(1)},
    ])
    stack.control("/moto-api/iam-access-advisor/config", {"job_seconds": 1.0, "fail": []})
    return {"tag": tag, "path": path, **arns}


def scan(stack, roles, name, **report):
    run_input = {"discover": {"types": ["role"], "path_prefix": roles["path"]}, "poll": POLL, "report": report}
    output = stack.run(f"{name}-{roles['tag']}", run_input)
    return output, stack.json(output["summary_key"])


def test_one_finding_per_principal_with_unused_services_updated_then_archived(stack, roles):
    hub = client(stack, "securityhub")
    first, summary = scan(stack, roles, "hub-1", security_hub=True)
    assert summary["schema_version"].startswith("4.1"), summary["schema_version"]
    assert summary["security_hub"] == {"imported": 1, "archived": 0, "failed": 0, "calls": 1}, summary["security_hub"]

    [finding] = findings_of(hub, roles["stale"])
    assert finding["RecordState"] == "ACTIVE"
    assert finding["SchemaVersion"] == "2018-10-08"
    assert finding["AwsAccountId"] == summary["accounts"][0]["id"]
    assert finding["ProductArn"].endswith(f":product/{finding['AwsAccountId']}/default")
    assert finding["Resources"][0] == {"Type": "AwsIamRole", "Id": roles["stale"], "Partition": "aws",
                                       "Region": "us-east-1"}
    assert finding["ProductFields"]["iam-last-accessed/UnusedServices"] == "ec2"
    assert finding["ProductFields"]["iam-last-accessed/UnusedServiceDays"].startswith("ec2 (")
    assert finding["ProductFields"]["iam-last-accessed/RunId"] == first["run_id"]
    assert "ec2 (" in finding["Description"] and "s3" not in finding["Description"].split("Report:")[0]
    # Severity is set through FindingProviderFields; Security Hub fills the top level from it.
    assert finding["FindingProviderFields"]["Severity"]["Label"] == "LOW"
    assert finding["Severity"]["Label"] == "LOW"
    assert findings_of(hub, roles["clean"]) == [], "nothing unused: no finding"

    second, summary = scan(stack, roles, "hub-2", security_hub=True)
    [again] = findings_of(hub, roles["stale"])
    assert again["Id"] == finding["Id"], "the next run updates the same finding"
    assert again["RecordState"] == "ACTIVE"
    assert again["ProductFields"]["iam-last-accessed/RunId"] == second["run_id"]
    assert again["UpdatedAt"] >= finding["UpdatedAt"]

    # Off for one run: nothing is sent, nothing is recorded.
    _, summary = scan(stack, roles, "hub-off", security_hub=False)
    assert "security_hub" not in summary
    assert findings_of(hub, roles["stale"])[0]["ProductFields"]["iam-last-accessed/RunId"] == second["run_id"]

    # The stale service removed: the next run finds nothing unused and archives it.
    stack.iam.put_role_policy(RoleName=f"{roles['tag']}-stale", PolicyName="work", PolicyDocument=allow("s3:GetObject"))
    third, summary = scan(stack, roles, "hub-3", security_hub=True)
    assert summary["security_hub"]["archived"] == 1, summary["security_hub"]
    assert summary["security_hub"]["imported"] == 0
    [archived] = findings_of(hub, roles["stale"])
    assert archived["Id"] == finding["Id"]
    assert archived["RecordState"] == "ARCHIVED"
    active = [f for f in findings_of(hub, roles["stale"]) + findings_of(hub, roles["clean"])
              if f["RecordState"] == "ACTIVE"]
    assert active == [], "no principal with nothing unused has an active finding"


@pytest.fixture
def queue(stack):
    """An SQS queue behind an EventBridge rule on source iam-last-accessed (the documented
    example rule), with the queue policy EventBridge needs."""
    sqs, events = client(stack, "sqs"), client(stack, "events")
    name = f"scan-finished-{uuid.uuid4().hex[:8]}"
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    rule_arn = events.put_rule(Name=name, EventPattern=json.dumps(
        {"source": ["iam-last-accessed"], "detail-type": ["Scan Finished"]}))["RuleArn"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sqs:SendMessage",
         "Resource": arn, "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}}}]})})
    events.put_targets(Rule=name, Targets=[{"Id": "queue", "Arn": arn}])
    yield sqs, url
    events.remove_targets(Rule=name, Ids=["queue"])
    events.delete_rule(Name=name)
    sqs.delete_queue(QueueUrl=url)


def event_of(sqs, url, run_id, seconds=60):
    """The Scan Finished event of `run_id` the queue received."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
            event = json.loads(m["Body"])
            if event["detail"].get("run_id") == run_id:
                return event
    pytest.fail(f"no Scan Finished event of {run_id} in the queue")


def test_a_rule_on_the_source_delivers_each_runs_scan_finished_event_to_sqs(stack, roles, queue):
    sqs, url = queue
    output, summary = scan(stack, roles, "event-ok")
    event = event_of(sqs, url, output["run_id"])
    assert event["source"] == "iam-last-accessed"
    assert event["detail-type"] == "Scan Finished"
    d = event["detail"]
    assert d["status"] == "SUCCEEDED"
    assert d["summary_key"] == output["summary_key"]
    assert d["page_key"] == output["summary_key"].replace("summary.json", "index.html")
    assert d["bucket"] == stack.bucket
    assert d["counts"]["principals_planned"] == summary["counts"]["principals_planned"] == 2
    assert d["counts"]["reports_written"] == 2
    assert d["accounts_not_fully_scanned"] == [] and d["accounts_not_fully_scanned_total"] == 0
    assert any(r.endswith(f":{output['run_id']}") for r in event["resources"]), event["resources"]
    # The run's own output is unchanged but for the detail it carries.
    assert output["status"] == "SUCCEEDED" and output["scan_finished"] == d

    refused = f"event-bad-{roles['tag']}"
    run = stack.finish(refused, {"batch_size": 0})
    assert (run["status"], run["error"]) == ("FAILED", "InvalidInput")
    d = event_of(sqs, url, refused)["detail"]
    assert (d["status"], d["error"]) == ("INVALID_INPUT", "InvalidInput")
    assert d["cause"] == run["cause"] and "batch_size" in d["cause"]


def test_a_run_that_fails_its_principals_sends_its_counts_and_summary_key(stack, roles, queue):
    sqs, url = queue
    stack.control("/moto-api/iam-access-advisor/config", {"fail": [roles["stale"], roles["clean"]]})
    try:
        name = f"event-failed-{roles['tag']}"
        run = stack.finish(name, {"discover": {"types": ["role"], "path_prefix": roles["path"]}, "poll": POLL})
    finally:
        stack.control("/moto-api/iam-access-advisor/config", {"fail": []})
    assert (run["status"], run["error"]) == ("FAILED", "TooManyFailures"), run.get("cause")
    d = event_of(sqs, url, name)["detail"]
    assert (d["status"], d["error"]) == ("FAILED", "TooManyFailures")
    assert d["counts"]["by_status"] == {"FAILED": 2}
    assert "2 of 2 principals FAILED" in d["cause"] and "2 of 2 principals FAILED" in run["cause"], d["cause"]
    summary = stack.json(d["summary_key"])
    assert summary["status"] == "FAILED" and summary["run_id"] == name
