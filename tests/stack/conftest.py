"""Tests of the deployed stack itself (tests/stack): they run on the local stack that
`make test-e2e` brings up from infra/template.yaml (settings from .local/env), or bring up
their own from a copy of the template."""

from __future__ import annotations

import json
import os
import time
import urllib.request

import boto3
import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run `make test-e2e` (or `make local-up && source .local/env`)")
    return value


class Stack:
    """The clients and names of one running local stack (an administrator's keys)."""

    def __init__(self, settings: dict) -> None:
        self.settings = settings
        kw = dict(endpoint_url=settings["AWS_ENDPOINT_URL"], region_name=settings["AWS_REGION"],
                  aws_access_key_id=settings["AWS_ACCESS_KEY_ID"],
                  aws_secret_access_key=settings["AWS_SECRET_ACCESS_KEY"])
        self.iam, self.sfn, self.s3, self.cfn, self.lam = (
            boto3.client(s, **kw) for s in ("iam", "stepfunctions", "s3", "cloudformation", "lambda"))
        self.state_machine = settings["STATE_MACHINE_ARN"]
        self.bucket = settings["REPORT_BUCKET"]
        self.stack_name = settings.get("STACK_NAME", "iam-last-accessed")

    def control(self, path: str, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.settings['EMULATOR_URL']}/moto-api/iam-access-advisor/{path}",
                                     data=data, headers={"Content-Type": "application/json"},
                                     method="GET" if body is None else "POST")
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())

    def run(self, name: str, run_input: dict, timeout: float = 300) -> dict:
        """Starts an execution and waits for its end: DescribeExecution's answer."""
        arn = self.sfn.start_execution(stateMachineArn=self.state_machine, name=name,
                                       input=json.dumps(run_input))["executionArn"]
        deadline = time.time() + timeout
        while True:
            described = self.sfn.describe_execution(executionArn=arn)
            if described["status"] != "RUNNING":
                return described
            assert time.time() < deadline, f"{name} still running after {timeout} s"
            time.sleep(0.5)

    def resources(self, resource_type: str) -> dict:
        """Logical id -> physical id of the stack's resources of one type."""
        found = self.cfn.describe_stack_resources(StackName=self.stack_name)["StackResources"]
        return {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in found if r["ResourceType"] == resource_type}

    def function(self, logical: str) -> str:
        return self.resources("AWS::Lambda::Function")[logical]


def summary_key(cause: str) -> str:
    """The summary key an unsuccessful run names in its Cause (`see s3://bucket/key`)."""
    message = json.loads(cause)["errorMessage"]
    return message[message.index("s3://"):].split("/", 3)[3].split()[0]


def unique(prefix: str) -> str:
    return f"{prefix}-{time.time_ns() % 10**12}"


@pytest.fixture(scope="session")
def stack() -> Stack:
    names = ["AWS_ENDPOINT_URL", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "EMULATOR_URL",
             "STATE_MACHINE_ARN", "REPORT_BUCKET"]
    settings = {n: env(n) for n in names}
    settings["STACK_NAME"] = os.environ.get("STACK_NAME", "iam-last-accessed")
    return Stack(settings)
