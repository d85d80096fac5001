"""The Lambda bridge and the local runtime API (tests/local/runtime_api.py) give each
invocation the deadline Lambda gives it: the invoke's time plus the function's Timeout,
in Unix milliseconds, on `next` (Lambda developer guide, "Using the Lambda runtime API
for custom runtimes": Lambda-Runtime-Deadline-Ms); the answer and a function error come
back as Lambda's Invoke returns them."""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time
from http.server import ThreadingHTTPServer

import pytest
import requests

from access_advisor.bridge import call_bridge

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "local"))
import runtime_api  # noqa: E402

ARN = "arn:aws:lambda:us-east-1:123456789012:function:iam-last-accessed-GenerateFunction-X1"


@pytest.fixture
def runtime():
    """A runtime API on a free port: its base URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = ThreadingHTTPServer(("127.0.0.1", port), runtime_api.make_handler(runtime_api.RuntimeApi("generate")))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()


def function_process(url: str, seen: list, answer) -> threading.Thread:
    """One function process: takes one invocation (`next`), records its headers and body,
    and posts `answer(event)`: (kind, body), kind "response" or "error"."""

    def run() -> None:
        nxt = requests.get(f"{url}/2018-06-01/runtime/invocation/next", timeout=30)
        seen.append((dict(nxt.headers), nxt.json()))
        kind, body = answer(nxt.json())
        request_id = nxt.headers["Lambda-Runtime-Aws-Request-Id"]
        done = requests.post(f"{url}/2018-06-01/runtime/invocation/{request_id}/{kind}", data=json.dumps(body),
                             timeout=30)
        assert done.status_code == 202

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_an_invocation_gets_its_invokes_time_plus_the_functions_timeout(runtime):
    seen: list = []
    process = function_process(runtime, seen, lambda event: ("response", {"echo": event}))
    before = time.time()
    ok, body = call_bridge(runtime, "generate", b'{"batch": 1}', timeout_seconds=60, function_arn=ARN)
    after = time.time()
    process.join(10)
    assert ok and json.loads(body) == {"echo": {"batch": 1}}
    [(headers, event)] = seen
    assert event == {"batch": 1}
    deadline_ms = int(headers["Lambda-Runtime-Deadline-Ms"])
    assert int((before + 60) * 1000) - 1 <= deadline_ms <= int((after + 60) * 1000) + 1, (before, deadline_ms)
    assert headers["Lambda-Runtime-Invoked-Function-Arn"] == ARN
    assert headers["Lambda-Runtime-Aws-Request-Id"]
    assert headers["Lambda-Runtime-Trace-Id"].startswith("Root=1-")


def test_a_function_error_is_an_unhandled_error_with_its_body(runtime):
    error = {"errorType": "Throttled", "errorMessage": "IAM throttled"}
    process = function_process(runtime, [], lambda event: ("error", error))
    ok, body = call_bridge(runtime, "generate", b"{}", timeout_seconds=60)
    process.join(10)
    assert not ok
    assert json.loads(body) == error


def test_an_invocation_past_its_timeout_is_sandbox_timedout(runtime):
    # No process takes it: the bridge gives up at the function's Timeout, as Lambda does.
    ok, body = call_bridge(runtime, "generate", b"{}", timeout_seconds=1)
    assert not ok
    assert json.loads(body)["errorType"] == "Sandbox.Timedout"


def test_an_invocation_queued_past_its_deadline_is_never_started(runtime):
    ok, _ = call_bridge(runtime, "generate", b'{"stale": true}', timeout_seconds=1)
    assert not ok
    seen: list = []
    process = function_process(runtime, seen, lambda event: ("response", event))
    ok, body = call_bridge(runtime, "generate", b'{"fresh": true}', timeout_seconds=60)
    process.join(10)
    assert ok and json.loads(body) == {"fresh": True}
    assert [event for _, event in seen] == [{"fresh": True}], "the stale one was dropped"
