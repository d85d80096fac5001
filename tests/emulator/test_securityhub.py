"""Security Hub's findings (access_advisor/securityhub.py) and the authorization of
BatchImportFindings and PutEvents (authz.py), as the README's "Security Hub and
EventBridge" section says."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from conftest import running_emulator

ACCOUNT = "123456789012"
PRODUCT = f"arn:aws:securityhub:us-east-1:{ACCOUNT}:product/{ACCOUNT}/default"


def finding(i: int = 0, **over):
    f = {
        "SchemaVersion": "2018-10-08", "Id": f"f-{i}", "ProductArn": PRODUCT, "GeneratorId": "g",
        "AwsAccountId": ACCOUNT, "CreatedAt": "2026-11-25T00:00:00Z", "UpdatedAt": "2026-11-25T00:00:00Z",
        "Title": "t", "Description": "d",
        "Resources": [{"Type": "AwsIamRole", "Id": f"arn:aws:iam::{ACCOUNT}:role/r{i}"}],
        "FindingProviderFields": {"Severity": {"Label": "LOW", "Original": "x"}, "Types": ["a/b/c"]},
    }
    f.update(over)
    return f


@pytest.fixture
def hub(api):
    client = api.client("securityhub", validate=False)
    client.enable_security_hub(EnableDefaultStandards=False)
    return client


def test_a_hub_not_enabled_refuses_findings(api):
    client = api.client("securityhub")
    with pytest.raises(ClientError) as e:
        client.batch_import_findings(Findings=[finding()])
    assert e.value.response["Error"]["Code"] == "InvalidAccessException"
    assert f"Account {ACCOUNT} is not subscribed" in e.value.response["Error"]["Message"]


def test_at_most_100_findings_a_request(hub):
    with pytest.raises(ClientError) as e:
        hub.batch_import_findings(Findings=[finding(i) for i in range(101)])
    assert e.value.response["Error"]["Code"] == "InvalidInputException"
    out = hub.batch_import_findings(Findings=[finding(i) for i in range(100)])
    assert (out["SuccessCount"], out["FailedCount"]) == (100, 0)


def test_required_fields_and_the_account_are_checked_one_finding_at_a_time(hub):
    out = hub.batch_import_findings(Findings=[
        finding(0), {k: v for k, v in finding(1).items() if k != "Title"},
        finding(2, AwsAccountId="111111111111"), finding(3, FindingProviderFields={})])
    assert out["SuccessCount"] == 1
    failed = {f["Id"]: f for f in out["FailedFindings"]}
    assert failed["f-1"]["ErrorCode"] == "InvalidInput" and "Title" in failed["f-1"]["ErrorMessage"]
    assert failed["f-2"]["ErrorCode"] == "AccessDeniedException"
    assert "Severity" in failed["f-3"]["ErrorMessage"] and "Types" in failed["f-3"]["ErrorMessage"]


def test_the_same_product_and_id_update_one_finding_severity_from_provider_fields(hub):
    hub.batch_import_findings(Findings=[finding(0)])
    hub.batch_import_findings(Findings=[finding(0, RecordState="ARCHIVED", UpdatedAt="2026-11-26T00:00:00Z",
                                                FindingProviderFields={"Severity": {"Label": "HIGH", "Original": "y"},
                                                                       "Types": ["a/b/c"]})])
    [f] = hub.get_findings()["Findings"]
    assert (f["RecordState"], f["UpdatedAt"]) == ("ARCHIVED", "2026-11-26T00:00:00Z")
    assert f["Severity"]["Label"] == "HIGH" and f["Types"] == ["a/b/c"]
    assert f["Workflow"] == {"Status": "NEW"}


def test_get_findings_filters_by_resource_state_and_prefix(hub):
    hub.batch_import_findings(Findings=[finding(0), finding(1, RecordState="ARCHIVED"), finding(2, GeneratorId="other")])

    def ids(**filters):
        return sorted(f["Id"] for f in hub.get_findings(Filters=filters)["Findings"])

    assert ids(RecordState=[{"Value": "ACTIVE", "Comparison": "EQUALS"}]) == ["f-0", "f-2"]
    assert ids(ResourceId=[{"Value": f"arn:aws:iam::{ACCOUNT}:role/r1", "Comparison": "EQUALS"}]) == ["f-1"]
    assert ids(GeneratorId=[{"Value": "g", "Comparison": "EQUALS"}],
               RecordState=[{"Value": "ARCHIVED", "Comparison": "NOT_EQUALS"}]) == ["f-0"]
    assert ids(Id=[{"Value": "f-", "Comparison": "PREFIX"}]) == ["f-0", "f-1", "f-2"]
    with pytest.raises(ClientError) as e:
        hub.get_findings(Filters={"CompanyName": [{"Value": "x", "Comparison": "EQUALS"}]})
    assert e.value.response["Error"]["Code"] == "InvalidInputException"


def test_put_events_and_batch_import_findings_are_authorized_on_their_resources():
    with running_emulator("--enforce-iam") as (url, _):
        from conftest import Api

        api = Api(url)
        iam = api.iam()
        iam.create_user(UserName="notifier")
        iam.put_user_policy(UserName="notifier", PolicyName="p", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "events:PutEvents",
                 "Resource": f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/default",
                 "Condition": {"StringEquals": {"events:source": "iam-last-accessed"}}},
                {"Effect": "Allow", "Action": "securityhub:BatchImportFindings", "Resource": PRODUCT}]}))
        key = iam.create_access_key(UserName="notifier")["AccessKey"]
        creds = {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}
        api.client("securityhub").enable_security_hub(EnableDefaultStandards=False)
        events = api.client("events", creds=creds)
        entry = {"Source": "iam-last-accessed", "DetailType": "Scan Finished", "Detail": "{}"}
        assert events.put_events(Entries=[entry])["FailedEntryCount"] == 0
        with pytest.raises(ClientError) as e:
            events.put_events(Entries=[dict(entry, Source="someone-else")])
        assert e.value.response["Error"]["Code"] == "AccessDeniedException"
        with pytest.raises(ClientError) as e:
            events.put_events(Entries=[dict(entry, EventBusName="other")])
        assert "event-bus/other" in e.value.response["Error"]["Message"]
        hub = api.client("securityhub", creds=creds)
        assert hub.batch_import_findings(Findings=[finding()])["SuccessCount"] == 1
        other = PRODUCT.replace(f"product/{ACCOUNT}/default", "product/aws/guardduty")
        with pytest.raises(ClientError) as e:
            hub.batch_import_findings(Findings=[finding(ProductArn=other)])
        assert e.value.response["Error"]["Code"] == "AccessDeniedException"
