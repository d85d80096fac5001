"""Forward moto Lambda invocations to a local runtime API (tests/local/runtime_api.py).

Routing, per deployed function name:

- config ``lambda_bridge_functions`` maps it to ``{runtime URL}/{binary}``, e.g.
  ``http://127.0.0.1:9001/plan``: Invoke POSTs the payload to
  ``http://127.0.0.1:9001/2015-03-31/functions/plan/invocations`` (a URL without a
  path means binary = the function's name);
- else, with a bridge URL (env LAMBDA_BRIDGE_URL at start, or config key
  ``lambda_bridge_url``), to ``{url}/2015-03-31/functions/{function_name}/invocations``;
- else moto's own behaviour.

The response body is returned.  A non-2xx answer becomes an ``Unhandled`` function error whose
payload is ``{"errorType": ..., "errorMessage": ...}``, so Step Functions'
Catch sees Error == errorType exactly as on AWS.

The function's configured ``Timeout`` is enforced as Lambda does (Lambda developer guide,
"Configure Lambda function timeout"; Step Functions developer guide, "Handling errors":
``Sandbox.Timedout``): an invocation that has not answered within it ends as an
``Unhandled`` function error ``{"errorType": "Sandbox.Timedout", "errorMessage":
"... Task timed out after N.00 seconds"}``. Unlike Lambda, the local runtime is not
stopped: it finishes the invocation and its answer is dropped.

Each invocation is told its deadline as Lambda tells it: the Invoke carries
``Lambda-Runtime-Deadline-Ms``, the invoke's time plus the function's Timeout in Unix
milliseconds (Lambda developer guide, "Using the Lambda runtime API for custom runtimes":
"the date that the function times out"), and ``Lambda-Runtime-Invoked-Function-Arn``,
which the local runtime API (tests/local/runtime_api.py) hands the function on ``next``.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any, Optional, Tuple
from urllib.parse import urlsplit

from .state import STATE

# Without a Timeout of the function's: never give up before Lambda's
# own maximum of 15 minutes.
CLIENT_TIMEOUT_SECONDS = 15 * 60 + 30


def bridge_url() -> Optional[str]:
    return STATE.get_config().get("lambda_bridge_url")


def route(function_name: str) -> Optional[Tuple[str, str]]:
    """(runtime URL, function name the runtime knows) for a deployed function, or None."""
    config = STATE.get_config()
    target = (config.get("lambda_bridge_functions") or {}).get(function_name)
    if target:
        parts = urlsplit(target)
        path = parts.path.strip("/")
        if not path:
            return target.rstrip("/"), function_name
        prefix, _, binary = path.rpartition("/")
        base = f"{parts.scheme}://{parts.netloc}" + (f"/{prefix}" if prefix else "")
        return base, binary
    url = config.get("lambda_bridge_url")
    return (url, function_name) if url else None


def _normalise_error(body: bytes) -> bytes:
    try:
        parsed = json.loads(body.decode("utf-8"))
        if isinstance(parsed, dict) and "errorType" in parsed:
            return body
    except (UnicodeDecodeError, ValueError):
        pass
    text = body.decode("utf-8", errors="replace")
    return json.dumps({"errorType": "Lambda.Unknown", "errorMessage": text}).encode()


def call_bridge(url: str, function_name: str, body: Any,
                timeout_seconds: float = CLIENT_TIMEOUT_SECONDS, function_arn: str = "") -> tuple:
    import requests

    # The invocation's deadline, from its invoke: what the runtime API hands the function.
    deadline_ms = int((time.time() + timeout_seconds) * 1000)
    headers = {"Content-Type": "application/json", "Lambda-Runtime-Deadline-Ms": str(deadline_ms)}
    if function_arn:
        headers["Lambda-Runtime-Invoked-Function-Arn"] = function_arn

    if body is None or body == "":
        data = b"{}"
    elif isinstance(body, str):
        data = body.encode("utf-8")
    else:
        data = bytes(body)
    target = f"{url.rstrip('/')}/2015-03-31/functions/{function_name}/invocations"
    try:
        resp = requests.post(
            target, data=data, headers=headers,
            timeout=(10, timeout_seconds),
        )
    except requests.Timeout:
        msg = f"Task timed out after {timeout_seconds:.2f} seconds"
        return False, json.dumps({"errorType": "Sandbox.Timedout", "errorMessage": msg}).encode()
    except requests.RequestException as exc:
        msg = f"Lambda bridge at {url} unreachable: {exc}"
        return False, json.dumps({"errorType": "Lambda.BridgeUnreachable", "errorMessage": msg}).encode()
    if 200 <= resp.status_code < 300:
        func_err = resp.headers.get("X-Amz-Function-Error")
        if func_err:
            return False, resp.content
        return True, resp.content
    return False, _normalise_error(resp.content)


def _bridged_invoke(self: Any, function_name: str, qualifier: Optional[str], body: Any,
                    headers: Any, response_headers: Any, url: str, name: str,
                    timeout_seconds: float = CLIENT_TIMEOUT_SECONDS, function_arn: str = "") -> bytes:
    inv_type = (headers.get("X-Amz-Invocation-Type") or headers.get("x-amz-invocation-type")
                or "RequestResponse") if headers is not None else "RequestResponse"
    if inv_type == "DryRun":
        return b""
    if inv_type == "Event":
        threading.Thread(target=call_bridge, args=(url, name, body, timeout_seconds, function_arn),
                         daemon=True).start()
        return b""
    ok, payload = call_bridge(url, name, body, timeout_seconds, function_arn)
    if not ok:
        response_headers["x-amz-function-error"] = "Unhandled"
    response_headers["Content-Length"] = str(len(payload))
    return payload


def install() -> None:
    from moto.awslambda.models import LambdaBackend
    from moto.awslambda_simple.models import LambdaSimpleBackend

    for cls in (LambdaBackend, LambdaSimpleBackend):
        if "_access_advisor_bridge" in cls.__dict__:
            continue
        original = cls.__dict__.get("invoke")
        if original is None:
            continue

        def make(original: Any) -> Any:
            def invoke(self: Any, function_name: str, qualifier: Optional[str], body: Any,
                       headers: Any, response_headers: Any) -> Any:
                fn = self.get_function(function_name, qualifier)
                target = route(fn.function_name)
                if target is None:
                    return original(self, function_name, qualifier, body, headers, response_headers)
                url, name = target
                timeout = float(getattr(fn, "timeout", None) or CLIENT_TIMEOUT_SECONDS)
                return _bridged_invoke(self, function_name, qualifier, body, headers,
                                       response_headers, url, name, timeout,
                                       getattr(fn, "function_arn", ""))

            return invoke

        cls.invoke = make(original)  # type: ignore[method-assign]
        cls._access_advisor_bridge = True  # type: ignore[attr-defined]
