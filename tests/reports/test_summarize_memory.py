"""Summarize's memory does not grow with the run (issue 20): a scan of 2,000 roles each
granted every service (`*`: 370 services each) against one of 200 such roles, on the
local stack. Summarize's peak RSS is read as `make bench` reads it: the VmHWM of the
stack's own `summarize` processes, reset (`/proc/PID/clear_refs`, 5) before each of
three invocations of Summarize with the run's own input; the least of the three counts."""
import json
import os
import time
import uuid

import boto3
from concurrent.futures import ThreadPoolExecutor

from botocore.parsers import ResponseParserError

from conftest import ROOT

TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
EVERYTHING = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})


def summarize_pids():
    """The local stack's Summarize processes: target/<profile>/summarize of this checkout."""
    target = os.path.realpath(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")))
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            exe = os.readlink(f"/proc/{pid}/exe").replace(" (deleted)", "")
        except OSError:
            continue
        if os.path.basename(exe) == "summarize" and exe.startswith(target + os.sep):
            found.append(int(pid))
    return found


def peak_rss_mb():
    """The highest VmHWM of them, MB."""
    peak = 0.0
    for pid in summarize_pids():
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) / 1024)
    return peak


def reset_peaks():
    for pid in summarize_pids():
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")


def scan(stack, n):
    """n roles granted `*`, scanned: (the run's summary, Summarize's peak RSS in MB)."""
    tag = uuid.uuid4().hex[:8]
    path = f"/memory/{tag}/"

    def retried(call, **kw):
        # moto's IAM backend is not thread-safe: a concurrent CreateRole can fail with
        # "dictionary changed size during iteration" (an HTML 500) having made nothing
        # (tests/local/seed.py does the same).
        for attempt in range(6):
            try:
                return call(**kw)
            except ResponseParserError:
                time.sleep(0.05 * (attempt + 1))
            except stack.iam.exceptions.EntityAlreadyExistsException:
                if attempt == 0:
                    raise
                return None
        return call(**kw)

    def role(i):
        name = f"all-{tag}-{i:05}"
        retried(stack.iam.create_role, RoleName=name, Path=path, AssumeRolePolicyDocument=TRUST)
        retried(stack.iam.put_role_policy, RoleName=name, PolicyName="everything", PolicyDocument=EVERYTHING)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(role, range(n)))
    name = f"memory-{n}-{tag}"
    out = stack.run(name, {
        "discover": {"types": ["role"], "path_prefix": path},
        "poll": {"initial_wait_seconds": 1, "max_wait_seconds": 1, "max_attempts": 30},
    }, timeout=900)
    return stack.json(out["summary_key"]), summarize_peak(stack, name)


def summarize_peak(stack, name):
    """Summarize's peak RSS over the run, in MB: the least of three invocations with the
    input Step Functions gave it (Summarize writes the same files each time), each from
    a reset peak. This machine is noisy; the least is the one least disturbed."""
    arn = stack.machine.replace(":stateMachine:", ":execution:") + ":" + name
    events = stack.sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    scheduled = [json.loads(e["taskScheduledEventDetails"]["parameters"]) for e in events
                 if e["type"] == "TaskScheduled"]
    # Lambda Tasks name their function; the putEvents Tasks (the Scan Finished event) none.
    [summarize] = [p for p in scheduled if "Summarize" in p.get("FunctionName", "")]
    function = summarize["FunctionName"]
    lam = boto3.client("lambda", endpoint_url=stack.endpoint, region_name="us-east-1")
    peaks = []
    for _ in range(3):
        reset_peaks()
        answer = lam.invoke(FunctionName=function, Payload=json.dumps(summarize["Payload"]).encode())
        assert "FunctionError" not in answer, answer["Payload"].read()
        peaks.append(peak_rss_mb())
    return min(peaks)


def test_summarize_peak_memory_does_not_grow_with_the_run(stack):
    stack.control("/moto-api/iam-access-advisor/config", {"job_seconds": 0.0, "fail": []})
    small, small_mb = scan(stack, 200)
    large, large_mb = scan(stack, 2000)
    for summary, n in ((small, 200), (large, 2000)):
        counts = summary["counts"]
        assert summary["status"] == "SUCCEEDED", summary["status"]
        assert (counts["principals_planned"], counts["reports_written"]) == (n, n)
        assert counts["services_granted"] == 370 * n, "every service granted to each"
        assert summary["lists"]["report_keys"]["total"] == n
    assert len(large["report_keys"]) == 1000, "the summary lists the first 1,000 report keys"
    index = stack.s3.get_object(Bucket=stack.bucket, Key=large["lists"]["report_keys"]["key"])["Body"].read()
    assert len(json.loads(index)) == 2000, "the index (a multipart upload at this size) has every principal"
    assert small_mb > 0 and large_mb > 0, "the stack's Summarize processes were found"
    print(f"summarize peak RSS: 200 roles {small_mb:.1f} MB, 2000 roles {large_mb:.1f} MB")
    assert large_mb <= 1.5 * small_mb, (small_mb, large_mb)
