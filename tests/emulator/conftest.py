"""Fixtures: one real emulator process (server.py) per test session."""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time

import boto3
import pytest
import requests
from botocore.config import Config

HERE = os.path.dirname(os.path.abspath(__file__))
REGION = "us-east-1"
CREDS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_emulator(*flags: str):
    """A real emulator process (server.py [flags]) on a free port, until the block ends.
    Yields (url, the lines it printed up to "emulator ready on")."""
    port = _free_port()
    env = dict(os.environ)
    env.pop("LAMBDA_BRIDGE_URL", None)
    env.pop("EMULATOR_ENFORCE_IAM", None)
    env.setdefault("AWS_DEFAULT_REGION", REGION)
    proc = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "server.py"), "--host", "127.0.0.1", "--port", str(port), *flags],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True,
    )
    lines: "queue.Queue[str]" = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.time() + 30
    seen = []
    while True:
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            pytest.fail("emulator did not start:\n" + "".join(seen))
        try:
            line = lines.get(timeout=0.2)
        except queue.Empty:
            continue
        seen.append(line)
        if "emulator ready on" in line:
            break
    try:
        yield f"http://127.0.0.1:{port}", seen
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def emulator_url():
    with running_emulator() as (url, _):
        yield url


@pytest.fixture(autouse=True)
def _reset(emulator_url):
    r = requests.post(f"{emulator_url}/moto-api/reset", timeout=10)
    assert r.status_code == 200
    yield


class Api:
    """Helpers for boto3 clients and control endpoints."""

    def __init__(self, url: str) -> None:
        self.url = url

    def client(self, service: str, creds: dict | None = None, validate: bool = True,
               retries: int | None = None, **kw):
        cfg = {"parameter_validation": validate}
        if retries is not None:
            cfg["retries"] = {"total_max_attempts": retries}
        return boto3.client(service, region_name=REGION, endpoint_url=self.url,
                            config=Config(**cfg), **(creds or CREDS), **kw)

    def iam(self, **kw):
        return self.client("iam", **kw)

    def control(self, path: str, payload=None, method: str = "POST"):
        url = f"{self.url}/moto-api/iam-access-advisor/{path}"
        if method == "GET":
            return requests.get(url, timeout=10)
        return requests.post(url, json=payload, timeout=10)

    def config(self, **kw):
        r = self.control("config", kw)
        assert r.status_code == 200, r.text
        return r.json()

    def activity(self, records):
        r = self.control("activity", records)
        assert r.status_code == 200, r.text
        return r.json()


@pytest.fixture
def api(emulator_url):
    a = Api(emulator_url)
    a.config(job_seconds=0)
    return a
