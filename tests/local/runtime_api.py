"""The Lambda runtime API of one local function: the Invoke side the emulator's Lambda
bridge posts to, and the side the function's processes poll (`AWS_LAMBDA_RUNTIME_API`).

    python tests/local/runtime_api.py --port 9300 --function NAME

It replaces `cargo lambda watch --only-lambda-apis` in the local stack for one reason:
cargo lambda hands every invocation the constant `Lambda-Runtime-Deadline-Ms: 600000`
(1970-01-01T00:10:00Z; crates/cargo-lambda-watch/src/runtime/functions_router.rs) and
cannot be told otherwise, so a function budgeting against its context's deadline would
see it long past. Here each invocation's deadline is the one Lambda gives: the bridge
sends it with the Invoke (`Lambda-Runtime-Deadline-Ms`: the invoke's time plus the
deployed function's Timeout), and the runtime gets it on `next`.

What it serves, as the Lambda developer guide's "Using the Lambda runtime API for custom
runtimes" documents (API version 2018-06-01):

- `GET  /2018-06-01/runtime/invocation/next`: blocks until an invocation is queued; the
  body is its payload; headers `Lambda-Runtime-Aws-Request-Id`,
  `Lambda-Runtime-Deadline-Ms` ("the date that the function times out in Unix time
  milliseconds"), `Lambda-Runtime-Invoked-Function-Arn`, `Lambda-Runtime-Trace-Id`;
- `POST /2018-06-01/runtime/invocation/{id}/response` and `.../{id}/error`: 202; the
  error body is `{"errorType", "errorMessage"}`;
- `POST /2018-06-01/runtime/init/error`: 202 (recorded in the log);

and, for the bridge, `POST /2015-03-31/functions/{name}/invocations` (Lambda's Invoke):
200 with the response, or 200 with `X-Amz-Function-Error: Unhandled` and the error
body, as Lambda answers a synchronous invoke. Any path prefix before those is ignored.
Invocations are handed out first come, first served, one per `next`: each of the
function's processes takes one at a time, as a Lambda execution environment does. One
still queued at its deadline (every process busy) is never started.
"""

from __future__ import annotations

import argparse
import json
import queue
import secrets
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Without a deadline from the bridge: Lambda's longest Timeout.
DEFAULT_TIMEOUT_SECONDS = 900


class Invocation:
    def __init__(self, payload: bytes, deadline_ms: int, function_arn: str) -> None:
        self.request_id = str(uuid.uuid4())
        self.payload = payload
        self.deadline_ms = deadline_ms
        self.function_arn = function_arn
        self.trace_id = f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)};Sampled=0"
        self.done = threading.Event()
        self.error = False
        self.body = b""


class RuntimeApi:
    def __init__(self, function_name: str) -> None:
        self.function_name = function_name
        self.queued: "queue.Queue[Invocation]" = queue.Queue()
        self.running: dict = {}
        self.lock = threading.Lock()

    def invoke(self, payload: bytes, deadline_ms: int, function_arn: str) -> Invocation:
        inv = Invocation(payload, deadline_ms, function_arn)
        self.queued.put(inv)
        inv.done.wait()
        return inv

    def next(self) -> Invocation:
        """The next invocation still within its deadline: one whose caller has given up
        (its Timeout passed while every process was busy) is never started, as Lambda
        starts no invocation past its timeout."""
        while True:
            inv = self.queued.get()
            if time.time() * 1000 < inv.deadline_ms:
                break
            inv.error, inv.body = True, json.dumps({
                "errorType": "Sandbox.Timedout",
                "errorMessage": "the invocation's deadline passed before a process was free"}).encode()
            inv.done.set()
        with self.lock:
            self.running[inv.request_id] = inv
        return inv

    def finish(self, request_id: str, body: bytes, error: bool) -> bool:
        with self.lock:
            inv = self.running.pop(request_id, None)
        if inv is None:
            return False
        inv.body, inv.error = body, error
        inv.done.set()
        return True


def read_body(handler: BaseHTTPRequestHandler) -> bytes:
    """The request's body, by Content-Length or chunked (the runtime client may stream)."""
    if "chunked" in (handler.headers.get("Transfer-Encoding") or "").lower():
        out = bytearray()
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return bytes(out)
            out += handler.rfile.read(size)
            handler.rfile.readline()
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length else b""


def make_handler(api: RuntimeApi):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):  # noqa: D401 (quiet, one line per request)
            sys.stderr.write(f"[runtime-api {api.function_name}] {fmt % args}\n")

        def answer(self, status: int, body: bytes = b"", headers: dict | None = None) -> None:
            try:
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the caller gave up (the bridge's timeout): the answer is dropped

        def do_GET(self):  # noqa: N802
            if self.path.endswith("/2018-06-01/runtime/invocation/next"):
                inv = api.next()
                self.answer(200, inv.payload, {
                    "Lambda-Runtime-Aws-Request-Id": inv.request_id,
                    "Lambda-Runtime-Deadline-Ms": str(inv.deadline_ms),
                    "Lambda-Runtime-Invoked-Function-Arn": inv.function_arn,
                    "Lambda-Runtime-Trace-Id": inv.trace_id,
                })
                return
            self.answer(404, json.dumps({"errorType": "NotFound", "errorMessage": self.path}).encode())

        def do_POST(self):  # noqa: N802
            body = read_body(self)
            path = self.path.split("?")[0]
            if "/2015-03-31/functions/" in path and path.endswith("/invocations"):
                header = self.headers.get("Lambda-Runtime-Deadline-Ms")
                deadline_ms = int(header) if header else int((time.time() + DEFAULT_TIMEOUT_SECONDS) * 1000)
                arn = self.headers.get("Lambda-Runtime-Invoked-Function-Arn") or api.function_name
                inv = api.invoke(body or b"{}", deadline_ms, arn)
                headers = {"X-Amz-Function-Error": "Unhandled"} if inv.error else {}
                self.answer(200, inv.body, headers)
                return
            parts = path.split("/2018-06-01/runtime/", 1)
            if len(parts) == 2:
                rest = parts[1].split("/")
                if rest[:1] == ["invocation"] and len(rest) == 3 and rest[2] in ("response", "error"):
                    found = api.finish(rest[1], body, rest[2] == "error")
                    status = 202 if found else 400
                    self.answer(status, b'{"status":"OK"}' if found else b'{"errorType":"InvalidRequestID"}')
                    return
                if rest == ["init", "error"]:
                    sys.stderr.write(f"[runtime-api {api.function_name}] init error: {body[:2000]!r}\n")
                    self.answer(202, b'{"status":"OK"}')
                    return
            self.answer(404, json.dumps({"errorType": "NotFound", "errorMessage": self.path}).encode())

    return Handler


def main(argv: list) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--function", required=True, help="the deployed function's name (for the log)")
    args = parser.parse_args(argv)
    server = ThreadingHTTPServer((args.host, args.port), make_handler(RuntimeApi(args.function)))
    server.daemon_threads = True
    sys.stderr.write(f"[runtime-api {args.function}] serving on {args.host}:{args.port}\n")
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
