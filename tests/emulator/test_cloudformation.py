"""Conformance of the CloudFormation / Step Functions gaps the emulator fills
(access_advisor/cloudformation.py, stepfunctions.py) and of the per-function Lambda bridge."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

ACCT = "123456789012"
LAMBDA_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
STATES_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
ZIP = b"PK\x05\x06" + b"\x00" * 18


def create_stack(api, name, template, **params):
    cfn = api.client("cloudformation")
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(template),
                     Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()],
                     Capabilities=["CAPABILITY_IAM"])
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    return cfn, stack


def outputs(stack):
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs") or []}


def wait_execution(sfn, arn, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        d = sfn.describe_execution(executionArn=arn)
        if d["status"] != "RUNNING":
            return d
        time.sleep(0.2)
    pytest.fail(f"execution {arn} still running after {seconds}s")


# ------------------------------------------------------------------ CloudFormation
def test_novalue_inside_a_list_removes_the_element(api):
    template = {
        "Parameters": {"KeyArn": {"Type": "String", "Default": ""}},
        "Conditions": {"UseKey": {"Fn::Not": [{"Fn::Equals": [{"Ref": "KeyArn"}, ""]}]}},
        "Resources": {"Role": {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": LAMBDA_TRUST,
            "Policies": [
                {"PolicyName": "always", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}},
                {"Fn::If": ["UseKey",
                            {"PolicyName": "key", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                                {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": {"Ref": "KeyArn"}}]}},
                            {"Ref": "AWS::NoValue"}]},
            ],
            "ManagedPolicyArns": [{"Ref": "AWS::NoValue"}],
        }}},
        "Outputs": {"RoleName": {"Value": {"Ref": "Role"}}},
    }
    cfn, stack = create_stack(api, "novalue", template)
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    iam = api.iam()
    role = outputs(stack)["RoleName"]
    assert iam.list_role_policies(RoleName=role)["PolicyNames"] == ["always"]
    assert iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"] == []


def test_role_policies_are_json_text_and_managed_arns_attached(api):
    template = {"Resources": {"Role": {"Type": "AWS::IAM::Role", "Properties": {
        "AssumeRolePolicyDocument": STATES_TRUST,
        "ManagedPolicyArns": ["arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess"],
        "Policies": [{"PolicyName": "invoke", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "*"}]}}]}}},
        "Outputs": {"Role": {"Value": {"Ref": "Role"}}}}
    cfn, stack = create_stack(api, "roles", template)
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    iam, role = api.iam(), outputs(stack)["Role"]
    doc = iam.get_role_policy(RoleName=role, PolicyName="invoke")["PolicyDocument"]
    assert doc["Statement"][0]["Action"] == "lambda:InvokeFunction"
    attached = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == ["arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess"]
    details = iam.get_account_authorization_details(Filter=["Role"])["RoleDetailList"]
    assert [d["RolePolicyList"][0]["PolicyName"] for d in details if d["RoleName"] == role] == ["invoke"]


def test_number_parameter_is_a_string_where_referenced(api):
    template = {
        "Parameters": {"Rate": {"Type": "Number", "Default": 5}, "Burst": {"Type": "Number", "Default": 1}},
        "Resources": {
            "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": LAMBDA_TRUST}},
            "Fn": {"Type": "AWS::Lambda::Function", "Properties": {
                "Runtime": "provided.al2023", "Handler": "bootstrap", "Code": {"ZipFile": "x"},
                "Role": {"Fn::GetAtt": ["Role", "Arn"]}, "Architectures": ["arm64"],
                "Environment": {"Variables": {"RATE": {"Ref": "Rate"}, "BURST": {"Ref": "Burst"}}}}},
        },
        "Outputs": {"Fn": {"Value": {"Ref": "Fn"}}},
    }
    cfn, stack = create_stack(api, "numbers", template, Rate="2.5")
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    conf = api.client("lambda").get_function_configuration(FunctionName=outputs(stack)["Fn"])
    assert conf["Environment"]["Variables"] == {"RATE": "2.5", "BURST": "1"}
    assert conf["Architectures"] == ["arm64"]


def test_state_machine_from_s3_with_substitutions(api):
    s3, sfn = api.client("s3"), api.client("stepfunctions")
    s3.create_bucket(Bucket="artifacts")
    asl = {"StartAt": "Greet", "States": {"Greet": {
        "Type": "Pass", "Result": {"greeting": "${Greeting}", "arn": "arn:${Partition}:states:::x",
                                   "untouched": "${Unknown}"}, "End": True}}}
    s3.put_object(Bucket="artifacts", Key="sm.asl.json", Body=json.dumps(asl).encode())
    template = {
        "Parameters": {"Word": {"Type": "String", "Default": "hello"}},
        "Resources": {
            "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": STATES_TRUST}},
            "Machine": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {
                "DefinitionS3Location": {"Bucket": "artifacts", "Key": "sm.asl.json"},
                "DefinitionSubstitutions": {"Greeting": {"Ref": "Word"}, "Partition": {"Ref": "AWS::Partition"}},
                "RoleArn": {"Fn::GetAtt": ["Role", "Arn"]},
                "StateMachineType": "STANDARD",
                "TracingConfiguration": {"Enabled": True}}},
        },
        "Outputs": {"Arn": {"Value": {"Ref": "Machine"}}, "Name": {"Value": {"Fn::GetAtt": ["Machine", "Name"]}}},
    }
    cfn, stack = create_stack(api, "machine", template)
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    arn = outputs(stack)["Arn"]
    assert arn == f"arn:aws:states:us-east-1:{ACCT}:stateMachine:{outputs(stack)['Name']}"
    described = sfn.describe_state_machine(stateMachineArn=arn)
    definition = json.loads(described["definition"])
    assert definition["States"]["Greet"]["Result"] == {
        "greeting": "hello", "arn": "arn:aws:states:::x", "untouched": "${Unknown}"}
    assert described["tracingConfiguration"] == {"enabled": True}
    # created in the backend that executes: StartExecution runs it
    ex = sfn.start_execution(stateMachineArn=arn, input="{}")
    done = wait_execution(sfn, ex["executionArn"])
    assert done["status"] == "SUCCEEDED"
    assert json.loads(done["output"])["greeting"] == "hello"


def test_missing_definition_fails_the_stack_with_a_reason(api):
    template = {"Resources": {
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": STATES_TRUST}},
        "Machine": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {
            "DefinitionS3Location": {"Bucket": "nowhere", "Key": "missing.json"},
            "RoleArn": {"Fn::GetAtt": ["Role", "Arn"]}}},
    }, "Outputs": {"Arn": {"Value": {"Ref": "Machine"}}}}
    cfn, stack = create_stack(api, "broken", template)
    assert stack["StackStatus"] == "CREATE_FAILED"
    assert "Outputs" not in stack
    events = cfn.describe_stack_events(StackName="broken")["StackEvents"]
    failed = [e for e in events if e["LogicalResourceId"] == "Machine" and e["ResourceStatus"] == "CREATE_FAILED"]
    assert failed and failed[0]["ResourceStatusReason"]
    assert any(e["LogicalResourceId"] == "Role" and e["ResourceStatus"] == "CREATE_COMPLETE" for e in events)


def test_placeholder_resources_have_aws_shaped_ref_and_getatt(api):
    template = {
        "Parameters": {"Enabled": {"Type": "String", "Default": "false"}},
        "Conditions": {"IsEnabled": {"Fn::Equals": [{"Ref": "Enabled"}, "true"]}},
        "Resources": {
            "Db": {"Type": "AWS::Glue::Database", "Properties": {
                "CatalogId": {"Ref": "AWS::AccountId"}, "DatabaseInput": {"Name": "reports_db"}}},
            "Table": {"Type": "AWS::Glue::Table", "Properties": {
                "CatalogId": {"Ref": "AWS::AccountId"}, "DatabaseName": {"Ref": "Db"},
                "TableInput": {"Name": "rows"}}},
            "Query": {"Type": "AWS::Athena::NamedQuery", "Properties": {
                "Database": {"Ref": "Db"}, "QueryString": "SELECT 1"}},
            "Schedule": {"Type": "AWS::Scheduler::Schedule", "Properties": {
                "ScheduleExpression": "rate(1 day)", "FlexibleTimeWindow": {"Mode": "OFF"},
                "State": {"Fn::If": ["IsEnabled", "ENABLED", "DISABLED"]},
                "Target": {"Arn": "arn:aws:states:us-east-1:123456789012:stateMachine:x", "RoleArn": "arn:aws:iam::123456789012:role/x"}}},
            "Alarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {
                "ComparisonOperator": "GreaterThanThreshold", "Threshold": 0, "EvaluationPeriods": 1,
                "MetricName": "Errors", "Namespace": "AWS/Lambda", "Period": 300, "Statistic": "Sum"}},
            "Topic": {"Type": "AWS::SNS::Topic", "Properties": {}},
            "TopicPolicy": {"Type": "AWS::SNS::TopicPolicy", "Properties": {
                "Topics": [{"Ref": "Topic"}], "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                     "Action": "sns:Publish", "Resource": {"Ref": "Topic"}}]}}},
            "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {}},
            "BucketPolicy": {"Type": "AWS::S3::BucketPolicy", "Properties": {
                "Bucket": {"Ref": "Bucket"}, "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                    {"Effect": "Deny", "Principal": "*", "Action": "s3:*",
                     "Resource": {"Fn::Sub": "${Bucket.Arn}/*"},
                     "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}}},
            "Subscription": {"Type": "AWS::SNS::Subscription", "Condition": "IsEnabled", "Properties": {
                "TopicArn": {"Ref": "Topic"}, "Protocol": "email", "Endpoint": "a@example.com"}},
        },
        "Outputs": {
            "Db": {"Value": {"Ref": "Db"}}, "Table": {"Value": {"Ref": "Table"}},
            "Query": {"Value": {"Ref": "Query"}}, "QueryId": {"Value": {"Fn::GetAtt": ["Query", "NamedQueryId"]}},
            "Schedule": {"Value": {"Ref": "Schedule"}}, "ScheduleArn": {"Value": {"Fn::GetAtt": ["Schedule", "Arn"]}},
            "Alarm": {"Value": {"Ref": "Alarm"}}, "AlarmArn": {"Value": {"Fn::GetAtt": ["Alarm", "Arn"]}},
            "Bucket": {"Value": {"Ref": "Bucket"}}, "BucketPolicy": {"Value": {"Ref": "BucketPolicy"}},
            "Topic": {"Value": {"Ref": "Topic"}},
        },
    }
    cfn, stack = create_stack(api, "ops", template)
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    out = outputs(stack)
    assert out["Db"] == "reports_db" and out["Table"] == "rows"
    assert out["Query"] == out["QueryId"] and len(out["Query"]) == 36
    assert out["Schedule"].startswith("ops-Schedule-")
    assert out["ScheduleArn"] == f"arn:aws:scheduler:us-east-1:{ACCT}:schedule/default/{out['Schedule']}"
    assert out["AlarmArn"] == f"arn:aws:cloudwatch:us-east-1:{ACCT}:alarm:{out['Alarm']}"
    assert out["BucketPolicy"] == out["Bucket"]
    attrs = api.client("sns").get_topic_attributes(TopicArn=out["Topic"])["Attributes"]
    assert json.loads(attrs["Policy"])["Statement"][0]["Principal"] == {"Service": "events.amazonaws.com"}
    # the emulator's endpoint counts as TLS: the TLS-only bucket policy lets the request in
    api.client("s3").put_object(Bucket=out["Bucket"], Key="k", Body=b"x")
    listed = {r["LogicalResourceId"] for r in cfn.describe_stack_resources(StackName="ops")["StackResources"]}
    assert "Subscription" not in listed and "Schedule" in listed


# ------------------------------------------------------------------ Step Functions
def _map_machine(api, tolerance):
    iam, sfn = api.iam(), api.client("stepfunctions")
    role = iam.create_role(RoleName=f"sfn-{time.time_ns()}", AssumeRolePolicyDocument=json.dumps(STATES_TRUST))["Role"]["Arn"]
    m = {"Type": "Map", "ItemsPath": "$.items",
         "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                           "StartAt": "Check", "States": {
                               "Check": {"Type": "Choice", "Choices": [
                                   {"Variable": "$", "StringEquals": "bad", "Next": "Boom"}], "Default": "Ok"},
                               "Boom": {"Type": "Fail", "Error": "Boom", "Cause": "a bad item"},
                               "Ok": {"Type": "Pass", "End": True}}},
         "End": True, **tolerance}
    definition = json.dumps({"StartAt": "Each", "States": {"Each": m}})
    return sfn, sfn.create_state_machine(name=f"map-{time.time_ns()}", definition=definition, roleArn=role)["stateMachineArn"]


def _run_map(api, tolerance, items):
    sfn, arn = _map_machine(api, tolerance)
    ex = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"items": items}))
    return wait_execution(sfn, ex["executionArn"])


def test_map_within_tolerated_failure_percentage_succeeds(api):
    done = _run_map(api, {"ToleratedFailurePercentage": 50}, ["a", "bad", "c", "d"])
    assert done["status"] == "SUCCEEDED"
    assert json.loads(done["output"]) == ["a", None, "c", "d"]


def test_map_beyond_tolerated_failure_percentage_fails(api):
    done = _run_map(api, {"ToleratedFailurePercentage": 50}, ["bad", "bad", "bad", "d"])
    assert done["status"] == "FAILED"
    assert done["error"] == "States.ExceedToleratedFailureThreshold"


@pytest.mark.parametrize("tolerance, items, status", [
    ({}, ["a", "bad", "c", "d"], "FAILED"),  # no tolerance: any failed item fails the Map Run
    ({}, ["a", "b"], "SUCCEEDED"),
    ({"ToleratedFailurePercentage": 25.0}, ["a", "bad", "c", "d"], "SUCCEEDED"),  # 25 % is not above 25
    ({"ToleratedFailureCount": 1}, ["a", "bad", "c", "d"], "SUCCEEDED"),
    ({"ToleratedFailureCount": 1}, ["a", "bad", "bad", "d"], "FAILED"),
    # both given: exceeding either fails it
    ({"ToleratedFailureCount": 1, "ToleratedFailurePercentage": 10}, ["a", "bad", "c", "d"], "FAILED"),
    ({"ToleratedFailureCount": 3, "ToleratedFailurePercentage": 100}, ["bad", "bad", "bad", "d"], "SUCCEEDED"),
])
def test_map_failure_threshold(api, tolerance, items, status):
    done = _run_map(api, tolerance, items)
    assert done["status"] == status, done
    if status == "FAILED":
        assert done["error"] == "States.ExceedToleratedFailureThreshold"


def test_map_threshold_error_is_catchable(api):
    iam, sfn = api.iam(), api.client("stepfunctions")
    role = iam.create_role(RoleName="sfn-catch", AssumeRolePolicyDocument=json.dumps(STATES_TRUST))["Role"]["Arn"]
    definition = {"StartAt": "Each", "States": {
        "Each": {"Type": "Map", "ItemsPath": "$.items", "ToleratedFailurePercentage": 0,
                 "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                                   "StartAt": "Boom", "States": {"Boom": {"Type": "Fail", "Error": "Boom"}}},
                 "ResultPath": None,
                 "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "After"}],
                 "Next": "After"},
        "After": {"Type": "Pass", "End": True}}}
    arn = sfn.create_state_machine(name="map-catch", definition=json.dumps(definition), roleArn=role)["stateMachineArn"]
    described = json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"])
    assert described["States"]["Each"]["ToleratedFailurePercentage"] == 0  # stored as written
    done = wait_execution(sfn, sfn.start_execution(stateMachineArn=arn, input='{"items": [1]}')["executionArn"])
    assert done["status"] == "SUCCEEDED"
    assert json.loads(done["output"])["error"]["Error"] == "States.ExceedToleratedFailureThreshold"


# ------------------------------------------------------------------ Lambda bridge per function
class _Runtime(BaseHTTPRequestHandler):
    seen: list = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).seen.append((self.server.server_address[1], self.path))
        out = json.dumps({"path": self.path, "port": self.server.server_address[1], "echo": json.loads(body)}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


def test_bridge_routes_each_deployed_function_to_its_runtime(api):
    servers = [ThreadingHTTPServer(("127.0.0.1", 0), _Runtime) for _ in range(2)]
    for srv in servers:
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        lam = api.client("lambda")
        role = api.iam().create_role(RoleName="bridge-exec", AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))["Role"]["Arn"]
        for name in ("stack-PlanFunction-ABC", "stack-WriteFunction-DEF", "other"):
            lam.create_function(FunctionName=name, Runtime="provided.al2023", Role=role,
                                Handler="bootstrap", Code={"ZipFile": ZIP})
        p0, p1 = (s.server_address[1] for s in servers)
        api.config(lambda_bridge_functions={"stack-PlanFunction-ABC": f"http://127.0.0.1:{p0}/plan",
                                            "stack-WriteFunction-DEF": f"http://127.0.0.1:{p1}/write"},
                   lambda_bridge_url=f"http://127.0.0.1:{p1}")
        plan = json.loads(lam.invoke(FunctionName="stack-PlanFunction-ABC", Payload=b'{"a": 1}')["Payload"].read())
        assert plan == {"path": "/2015-03-31/functions/plan/invocations", "port": p0, "echo": {"a": 1}}
        arn = lam.get_function(FunctionName="stack-WriteFunction-DEF")["Configuration"]["FunctionArn"]
        write = json.loads(lam.invoke(FunctionName=arn, Payload=b"{}")["Payload"].read())
        assert (write["path"], write["port"]) == ("/2015-03-31/functions/write/invocations", p1)
        # not in the map: lambda_bridge_url, under the function's own name
        other = json.loads(lam.invoke(FunctionName="other", Payload=b"{}")["Payload"].read())
        assert (other["path"], other["port"]) == ("/2015-03-31/functions/other/invocations", p1)
    finally:
        for srv in servers:
            srv.shutdown()
