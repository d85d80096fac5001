"""Conformance of StopExecution on a run of nested Distributed Maps (access_advisor/sfn_stop.py):
the execution ABORTED at once with its error and cause, every Map Run ABORTED, no child
and no Lambda invocation started after the stop, the invocations in flight let finish."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

LAMBDA_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
STATES_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
ZIP = b"PK\x05\x06" + b"\x00" * 18
INVOKE_SECONDS = 0.5


class _SlowRuntime(BaseHTTPRequestHandler):
    """A Lambda runtime whose every invocation takes INVOKE_SECONDS; it counts what it got."""
    lock = threading.Lock()
    received = 0

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with type(self).lock:
            type(self).received += 1
        time.sleep(INVOKE_SECONDS)
        out = json.dumps(json.loads(body or b"{}")).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


@pytest.fixture
def runtime():
    _SlowRuntime.received = 0
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _SlowRuntime)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv
    srv.shutdown()


def _machine(api, runtime):
    """Accounts, then batches (both Distributed Maps, 2 at a time); each batch invokes the
    function in a loop of 20 rounds, so the run would last minutes."""
    iam, lam, sfn = api.iam(), api.client("lambda"), api.client("stepfunctions")
    fn_role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))["Role"]["Arn"]
    lam.create_function(FunctionName="work", Runtime="provided.al2023", Role=fn_role,
                        Handler="bootstrap", Code={"ZipFile": ZIP})
    api.config(lambda_bridge_functions={"work": f"http://127.0.0.1:{runtime.server_address[1]}/work"})
    batch = {"StartAt": "Invoke", "States": {
        "Invoke": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                   "Parameters": {"FunctionName": "work", "Payload": {"round.$": "$.round"}},
                   "ResultSelector": {"round.$": "States.MathAdd($.Payload.round, 1)"},
                   "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Failed"}], "Next": "Wait"},
        "Wait": {"Type": "Wait", "Seconds": 0, "Next": "More"},
        "More": {"Type": "Choice", "Choices": [
            {"Variable": "$.round", "NumericLessThan": 20, "Next": "Invoke"}], "Default": "Done"},
        "Failed": {"Type": "Fail", "Error": "BatchFailed"},
        "Done": {"Type": "Succeed"}}}
    batches = {"Type": "Map", "ItemsPath": "$.batches", "MaxConcurrency": 2,
               "ItemSelector": {"round": 0},
               "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, **batch},
               "ToleratedFailurePercentage": 100, "End": True}
    accounts = {"Type": "Map", "ItemsPath": "$.accounts", "MaxConcurrency": 2,
                "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                                  "StartAt": "Batches", "States": {"Batches": batches}},
                "ToleratedFailurePercentage": 100, "End": True}
    role = iam.create_role(RoleName="sfn", AssumeRolePolicyDocument=json.dumps(STATES_TRUST))["Role"]["Arn"]
    definition = {"StartAt": "Accounts", "States": {"Accounts": accounts}}
    arn = sfn.create_state_machine(name="stoppable", definition=json.dumps(definition),
                                   roleArn=role)["stateMachineArn"]
    return sfn, arn


def _invocations(api, execution_arn):
    r = api.control(f"invocations?execution={execution_arn}", method="GET")
    assert r.status_code == 200, r.text
    return r.json()["invocations"][execution_arn]


def _wait(what, check, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"{what} not within {seconds}s")


def test_stop_execution_stops_its_map_runs_children_and_tasks(api, runtime):
    sfn, arn = _machine(api, runtime)
    items = {"accounts": [{"batches": [1, 2, 3, 4, 5]} for _ in range(3)]}
    ex = sfn.start_execution(stateMachineArn=arn, name="run-1", input=json.dumps(items))["executionArn"]
    # 2 accounts × 2 batches at a time: wait until both levels are busy
    _wait("6 invocations", lambda: len(_invocations(api, ex)) >= 6)

    stopped = sfn.stop_execution(executionArn=ex, error="Stopped", cause="stopped by the test")
    stop_date = stopped["stopDate"]

    # ABORTED at once, with the stop's error and cause (while children are still in flight)
    d = sfn.describe_execution(executionArn=ex)
    assert (d["status"], d["stopDate"]) == ("ABORTED", stop_date)
    assert (d["error"], d["cause"]) == ("Stopped", "stopped by the test")

    # the invocations in flight run to their end; none started after the stop
    rows = _wait("the invocations in flight to return",
                 lambda: (r := _invocations(api, ex)) and all(x["ended"] for x in r) and r)
    starts = [datetime.fromisoformat(x["started"]) for x in rows]
    assert max(starts) <= stop_date, (starts, stop_date)
    received = _SlowRuntime.received
    assert received == len(rows)
    time.sleep(3 * INVOKE_SECONDS + 1)
    assert _SlowRuntime.received == received, "an invocation reached the function after the stop"
    assert len(_invocations(api, ex)) == len(rows)

    # every Map Run (the accounts' and each account's batches') ABORTED, none running
    map_runs = sfn.list_map_runs(executionArn=ex)["mapRuns"]
    assert len(map_runs) >= 3  # the accounts' Map Run and at least two accounts' batches'
    described = [sfn.describe_map_run(mapRunArn=m["mapRunArn"]) for m in map_runs]
    assert {m["status"] for m in described} == {"ABORTED"}
    assert all(m["stopDate"] == stop_date for m in described)
    for m in described:
        counts = m["executionCounts"]
        assert counts["running"] == 0 and counts["aborted"] >= 1 and counts["failed"] == 0, m
        # a stopped Map Run starts no further child: at most its MaxConcurrency had started
        assert counts["total"] <= 2, m

    # still ABORTED once the program has ended, with the stop in the history
    events = sfn.get_execution_history(executionArn=ex)["events"]
    assert events[-1]["type"] == "ExecutionAborted"
    assert events[-1]["executionAbortedEventDetails"] == {"error": "Stopped", "cause": "stopped by the test"}
    assert "MapRunAborted" in {e["type"] for e in events}
    assert "MapRunSucceeded" not in {e["type"] for e in events}
    assert sfn.describe_execution(executionArn=ex)["status"] == "ABORTED"


def test_stop_of_an_unknown_execution_is_execution_does_not_exist(api, runtime):
    sfn, arn = _machine(api, runtime)
    missing = arn.replace(":stateMachine:", ":execution:") + ":nope"
    with pytest.raises(sfn.exceptions.ExecutionDoesNotExist):
        sfn.stop_execution(executionArn=missing)
