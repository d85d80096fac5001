#!/usr/bin/env python3
"""One full scan on the local stack, measured; then Cloud Custodian's `usage` filter as the peer.

Run by tests/local/bench.sh (which brings the stack up and down). Reads $LOCAL_DIR/env.
Environment: N (2000), R (10), JOB_SECONDS (5), THROTTLE_FRACTION (0), GRANULARITY
(SERVICE_LEVEL), PEER (1 = run Cloud Custodian too), SEED_THREADS (8), MAX_CONCURRENCY /
BATCH_SIZE (the stack's defaults, only echoed here), RUN_INPUT (extra JSON merged into
the run input).

The figures are the LAST lines of stdout, one `name: value` each. Lines starting with
`#` are comments about the figures.

How the Map children are measured: moto runs a Distributed Map's children inline and
throws their history away (list_executions(mapRunArn) / their histories do not exist
locally). So the bench puts a recording proxy between the emulator's Lambda bridge and
the `cargo lambda watch` of each function (emulator config `lambda_bridge_functions`:
each deployed function is routed to the proxy, which forwards it to the function's own
runtime, as the bridge would), records every invocation
(function, batch index, outcome) and rebuilds each child execution's history exactly
as AWS Step Functions writes it for this ASL: ExecutionStarted; per Task state
TaskStateEntered, (TaskScheduled, TaskStarted, TaskSucceeded|TaskFailed) per attempt,
TaskStateExited; per Wait/Choice visit Entered + Exited; ExecutionSucceeded. The parent's
history is moto's real one.
"""
from __future__ import annotations

import glob
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter, defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import seed as seeding  # noqa: E402

FUNCTIONS = ["plan", "generate", "check", "write", "summarize"]
ALL_TYPES = ["user", "role", "group", "policy"]


def say(line=""):
    print(line, flush=True)


def load_env(local_dir):
    env = {}
    with open(os.path.join(local_dir, "env")) as f:
        for line in f:
            line = line.strip()
            if line.startswith("export ") and "=" in line:
                k, v = line[len("export "):].split("=", 1)
                env[k] = v
    return env


def http_json(url, body=None, method=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method or ("POST" if data is not None else "GET"),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as resp:
        return json.loads(resp.read() or b"null")


# ---------------------------------------------------------------- recording proxy
class Recorder:
    def __init__(self, upstreams, default=None):
        """upstreams: binary name -> (runtime base URL, the name the runtime knows the
        function by); default: the URL for any other name."""
        self.upstreams = {fn: (*self._address(url), name) for fn, (url, name) in upstreams.items()}
        self.default = self._address(default) if default else None
        self.lock = threading.Lock()
        self.records = []  # dicts: fn, index, t0, t1, ok, error, pending, wait
        self.in_flight = Counter()
        self.peak_in_flight = Counter()

    @staticmethod
    def _address(url):
        u = urllib.parse.urlparse(url)
        return u.hostname, u.port

    def upstream(self, fn):
        """(host, port, function name upstream)."""
        return self.upstreams.get(fn) or (*self.default, fn)


def make_handler(rec: Recorder):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            parts = self.path.split("/")
            fn = parts[3] if len(parts) > 3 else "?"
            index = None
            try:
                payload = json.loads(body or b"{}")
                if isinstance(payload, dict):
                    if isinstance(payload.get("batch"), dict):
                        index = payload["batch"].get("index")
                    elif "index" in payload:
                        index = payload.get("index")
            except ValueError:
                pass
            with rec.lock:
                rec.in_flight[fn] += 1
                rec.in_flight["*"] += 1
                rec.peak_in_flight[fn] = max(rec.peak_in_flight[fn], rec.in_flight[fn])
                rec.peak_in_flight["*"] = max(rec.peak_in_flight["*"], rec.in_flight["*"])
            t0 = time.time()
            status, headers, out = 502, {}, b'{"errorType":"Lambda.BenchProxy","errorMessage":"upstream failed"}'
            try:
                host, port, name = rec.upstream(fn)
                path = self.path.replace(f"/functions/{fn}/", f"/functions/{name}/", 1)
                conn = http.client.HTTPConnection(host, port, timeout=16 * 60)
                conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
                resp = conn.getresponse()
                status, out = resp.status, resp.read()
                headers = {k: v for k, v in resp.getheaders() if k.lower() in ("content-type", "x-amz-function-error")}
                conn.close()
            except Exception as exc:  # noqa: BLE001
                out = json.dumps({"errorType": "Lambda.BenchProxy", "errorMessage": str(exc)}).encode()
            t1 = time.time()
            ok = 200 <= status < 300 and not headers.get("X-Amz-Function-Error") and not any(k.lower() == "x-amz-function-error" for k in headers)
            entry = {"fn": fn, "index": index, "t0": t0, "t1": t1, "ok": ok, "error": None, "pending": None, "wait": None}
            try:
                parsed = json.loads(out or b"null")
                if isinstance(parsed, dict):
                    if "errorType" in parsed:
                        entry["ok"] = False
                        entry["error"] = parsed.get("errorType")
                    entry["pending"] = parsed.get("pending")
                    entry["wait"] = parsed.get("wait_seconds")
            except ValueError:
                pass
            with rec.lock:
                rec.records.append(entry)
                rec.in_flight[fn] -= 1
                rec.in_flight["*"] -= 1
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

    return Handler


def start_proxy(upstreams, default=None):
    rec = Recorder(upstreams, default)
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(rec))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, rec


# ---------------------------------------------------------------- history model
def child_histories(records):
    """Per batch index: (events, state_entered, retries) of the AWS child execution."""
    by_batch = defaultdict(lambda: defaultdict(list))
    for r in records:
        if r["fn"] in ("generate", "check", "write") and r["index"] is not None:
            by_batch[r["index"]][r["fn"]].append(r)
    out = {}
    for index, fns in by_batch.items():
        events, entered, retries = 2, 0, 0  # ExecutionStarted, ExecutionSucceeded/Failed
        for fn in ("generate", "check", "write"):
            attempts = fns.get(fn, [])
            visits = sum(1 for a in attempts if a["ok"]) or (1 if attempts else 0)
            failed = sum(1 for a in attempts if not a["ok"])
            retries += failed
            # each visit: Entered + Exited; each attempt: Scheduled, Started, Succeeded|Failed
            events += 2 * visits + 3 * len(attempts)
            entered += visits
            if fn == "check":
                # each Check visit is preceded by a Wait visit and followed by a Choice visit
                events += 4 * visits
                entered += 2 * visits
        out[index] = (events, entered, retries)
    return out


def rss_by_function(watch_pids):
    """VmHWM (MB) of our binaries: the target/debug/<fn> processes the local stack started."""
    parents, exes = {}, {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
            parents[int(pid)] = int(stat.rsplit(")", 1)[1].split()[1])
            exes[int(pid)] = os.readlink(f"/proc/{pid}/exe")
        except OSError:
            continue

    def under_watch(pid):
        seen = 0
        while pid > 1 and seen < 64:
            if pid in watch_pids:
                return True
            pid = parents.get(pid, 0)
            seen += 1
        return False

    peak, instances = {}, Counter()
    for pid, exe in exes.items():
        base = os.path.basename(exe.replace(" (deleted)", ""))
        if base in FUNCTIONS and "/target/" in exe and under_watch(pid):
            try:
                with open(f"/proc/{pid}/status") as f:
                    for line in f:
                        if line.startswith("VmHWM:"):
                            mb = int(line.split()[1]) / 1024
                            peak[base] = max(peak.get(base, 0.0), mb)
                            instances[base] += 1
            except OSError:
                continue
    return peak, instances


# ---------------------------------------------------------------- the run
def main():
    local_dir = os.environ.get("LOCAL_DIR") or os.path.join(ROOT, ".local-bench")
    env = load_env(local_dir)
    os.environ.update({k: v for k, v in env.items()})
    import boto3

    endpoint = env["AWS_ENDPOINT_URL"]
    control = endpoint.rstrip("/") + "/moto-api/iam-access-advisor"
    n = int(os.environ.get("N", "2000"))
    rate = float(os.environ.get("R", "10"))
    job_seconds = float(os.environ.get("JOB_SECONDS", "5"))
    fraction = float(os.environ.get("THROTTLE_FRACTION", "0"))
    granularity = os.environ.get("GRANULARITY", "SERVICE_LEVEL")
    peer = os.environ.get("PEER", "1") not in ("0", "false", "no", "")
    kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    sfn, s3 = boto3.client("stepfunctions", **kw), boto3.client("s3", **kw)

    # 1. seed (no throttle yet: every IAM call counts against the bucket)
    http_json(control + "/config", {"job_seconds": job_seconds, "throttle": {"rate": None, "burst": None, "fraction": 0.0}})
    truth = seeding.seed(endpoint, n, threads=int(os.environ.get("SEED_THREADS", "8")), log=lambda m: None)
    say(f"seeding: {n} principals {truth.counts}, {truth.iam_calls} IAM calls, {truth.activity_records} activity records in {truth.seconds:.1f}s")

    # 2. the emulated IAM: rate R (burst R), job time, random throttling
    cfg = http_json(control + "/config", {"job_seconds": job_seconds, "throttle": {"rate": rate, "burst": rate, "fraction": fraction}})
    say(f"emulator: job_seconds={cfg['job_seconds']} throttle={cfg['throttle']}; lambdas: IAM_REQUESTS_PER_SECOND={os.environ.get('IAM_REQUESTS_PER_SECOND')} "
        f"IAM_BURST={os.environ.get('IAM_BURST')} MAX_CONCURRENCY={os.environ.get('MAX_CONCURRENCY')} BATCH_SIZE={os.environ.get('BATCH_SIZE')} "
        f"LAMBDA_CONCURRENCY={os.environ.get('LAMBDA_CONCURRENCY')}")

    # 3. the recording proxy in front of each function's cargo lambda watch
    original_routes = cfg.get("lambda_bridge_functions") or {}
    original_bridge = cfg.get("lambda_bridge_url")
    # {deployed name: "http://127.0.0.1:PORT/NAME"}; the binary of each deployed function
    # is in the env file stack.py wrote for its processes (AWS_LAMBDA_FUNCTION_NAME).
    binaries = {}
    for path in glob.glob(os.path.join(local_dir, "lambda-*.env")):
        binary = os.path.basename(path)[len("lambda-"):-len(".env")]
        for line in open(path):
            if line.startswith("AWS_LAMBDA_FUNCTION_NAME="):
                binaries[line.split("=", 1)[1].strip()] = binary
    upstreams, routes = {}, {}
    for deployed, target in original_routes.items():
        base, _, name = target.rstrip("/").rpartition("/")
        binary = binaries.get(deployed, name)
        upstreams[binary] = (base, name)
        routes[deployed] = binary
    server, rec = start_proxy(upstreams, default=original_bridge or env["LAMBDA_URL"])
    proxy = f"http://127.0.0.1:{server.server_address[1]}"
    http_json(control + "/config", {
        "lambda_bridge_functions": {deployed: f"{proxy}/{binary}" for deployed, binary in routes.items()},
        "lambda_bridge_url": proxy,
    })

    # 4. one full scan
    run_input = {"discover": {"types": ALL_TYPES}, "granularity": granularity}
    if os.environ.get("RUN_INPUT"):
        run_input.update(json.loads(os.environ["RUN_INPUT"]))
    stats0 = http_json(control + "/stats")
    name = f"bench-{n}-{int(time.time())}"
    t_start = time.time()
    arn = sfn.start_execution(stateMachineArn=env["STATE_MACHINE_ARN"], name=name, input=json.dumps(run_input))["executionArn"]
    say(f"execution: {arn}")
    say(f"run input: {json.dumps(run_input)}")
    last_note = t_start
    while True:
        d = sfn.describe_execution(executionArn=arn)
        if d["status"] != "RUNNING":
            break
        if time.time() - last_note > 60:
            st = http_json(control + "/stats")
            with rec.lock:
                done = sum(1 for r in rec.records if r["fn"] == "write" and r["ok"])
            say(f"  … {time.time() - t_start:.0f}s, IAM calls {st['total_calls'] - stats0['total_calls']}, batches written {done}")
            last_note = time.time()
        time.sleep(0.5)
    t_end = time.time()
    stats1 = http_json(control + "/stats")
    http_json(control + "/config", {"lambda_bridge_functions": original_routes, "lambda_bridge_url": original_bridge})
    server.shutdown()
    if d.get("stopDate") and d.get("startDate"):
        wall = (d["stopDate"] - d["startDate"]).total_seconds()
    else:
        wall = t_end - t_start
    status = d["status"]
    output = json.loads(d.get("output") or "{}")
    if status != "SUCCEEDED":
        say(f"execution ended {status}: error={d.get('error')} cause={(d.get('cause') or '')[:500]}")
    summary_key = output.get("summary_key")
    summary = {}
    if summary_key:
        summary = json.loads(s3.get_object(Bucket=env["REPORT_BUCKET"], Key=summary_key)["Body"].read())
        say(f"summary: s3://{env['REPORT_BUCKET']}/{summary_key}")
    counts = summary.get("counts", {})
    principals = output.get("principals") or counts.get("principals_planned") or 0
    reports = output.get("reports_written") if "reports_written" in output else counts.get("reports_written", 0)
    by_status = output.get("by_status") or counts.get("by_status")
    say(f"by_status: {json.dumps(by_status)}  (principals include the stack's own roles)")

    calls = {k: v - stats0["calls"].get(k, 0) for k, v in stats1["calls"].items() if v - stats0["calls"].get(k, 0)}
    throttled = {k: v - stats0["throttled"].get(k, 0) for k, v in stats1["throttled"].items() if v - stats0["throttled"].get(k, 0)}
    iam_calls = stats1["total_calls"] - stats0["total_calls"]
    say(f"iam calls by action: {json.dumps(calls, sort_keys=True)}; throttled: {json.dumps(throttled, sort_keys=True)}")

    # 5. histories: the parent (moto's real one) and the rebuilt children
    events, token = [], None
    while True:
        page = sfn.get_execution_history(executionArn=arn, maxResults=1000, **({"nextToken": token} if token else {}))
        events += page["events"]
        token = page.get("nextToken")
        if not token:
            break
    parent_entered = sum(1 for e in events if e["type"].endswith("StateEntered"))
    children = child_histories(rec.records)
    child_events = [c[0] for c in children.values()]
    child_entered = sum(c[1] for c in children.values())
    child_retries = sum(c[2] for c in children.values())
    invocations = Counter(r["fn"] for r in rec.records)
    failed = Counter(r["error"] or "?" for r in rec.records if not r["ok"])
    busy = defaultdict(float)
    for r in rec.records:
        busy[r["fn"]] += r["t1"] - r["t0"]
    checks = [len([r for r in rec.records if r["fn"] == "check" and r["index"] == i and r["ok"]]) for i in children]
    waits = [r["wait"] for r in rec.records if r["fn"] in ("generate", "check") and r["ok"] and r["wait"] is not None and (r["pending"] or 0) > 0]
    say(f"lambda invocations: {dict(invocations)}; failed attempts: {dict(failed)}; busy seconds: "
        + " ".join(f"{k}={v:.0f}" for k, v in busy.items()) + f"; peak in flight: {dict(rec.peak_in_flight)}")
    if checks:
        say(f"map children: {len(children)}; Check rounds per batch min/avg/max {min(checks)}/{sum(checks) / len(checks):.2f}/{max(checks)}; "
            f"Wait seconds scheduled total {sum(waits):.0f}")

    # 6. peak RSS of the binaries (cargo lambda watch keeps the instances alive)
    watch_pids = {int(open(p).read().strip()) for pattern in ("watch*.pid", "fn-*.pid")
                  for p in glob.glob(os.path.join(local_dir, pattern))}
    peak, instances = rss_by_function(watch_pids)

    # 7. the peer: Cloud Custodian's usage filter, same account, emulator, R and job time
    peer_lines = []
    if peer:
        peer_lines = run_peer(endpoint, control, rate, job_seconds, fraction, local_dir)

    # 8. the run's page at 15,500 principals: built by page::render as Summarize builds it
    #    (the page_bench example, dev profile), then opened in headless chromium
    page_lines = page_figures(local_dir)

    lower = iam_calls / rate + job_seconds
    figures = [
        ("principals", principals),
        ("reports_written", reports),
        ("iam_calls_per_principal", f"{iam_calls / max(principals, 1):.3f}"),
        ("state_transitions_per_principal", f"{(parent_entered + child_entered) / max(principals, 1):.3f}"),
        ("max_history_events", max([len(events)] + child_events)),
        ("wall_s", f"{wall:.1f}"),
        ("lower_bound_s", f"{lower:.1f}"),
        ("wall_over_lower_bound", f"{wall / lower:.3f}"),
        ("peak_rss_mb", " ".join(f"{fn}={peak[fn]:.1f}" if fn in peak else f"{fn}=n/a" for fn in FUNCTIONS)),
    ]
    say()
    say(f"# state transitions = *StateEntered events (the billing definition, retries not counted): parent {parent_entered} "
        f"(moto's history) + {child_entered} in {len(children)} Map children (rebuilt from the recorded Lambda invocations; "
        f"{child_retries} retried attempts); max_history_events: parent {len(events)}, largest child {max(child_events) if child_events else 0}")
    say(f"# iam calls {iam_calls} (throttled {stats1['total_throttled'] - stats0['total_throttled']}) from after seeding to the end; "
        f"lower_bound_s = calls / R({rate:g}) + job time({job_seconds:g}); peak_rss_mb = max VmHWM over {dict(instances)} instances")
    for line in peer_lines:
        if line.startswith("#"):
            say(line)
    for k, v in figures:
        say(f"{k}: {v}")
    for line in page_lines:
        say(line)
    for line in peer_lines:
        if not line.startswith("#"):
            say(line)
    ok = status == "SUCCEEDED" and principals > 0 and reports == principals
    return 0 if ok else 1


def page_figures(local_dir):
    """html_bytes, html_build_s and html_first_render_s of a HTML_PRINCIPALS-principal
    (default 15,500) synthetic run's page."""
    import subprocess

    n = os.environ.get("HTML_PRINCIPALS", "15500")
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    out = os.path.join(local_dir, "page-bench.html")
    built = subprocess.run([os.path.join(target, "debug", "examples", "page_bench"), "--principals", n, "--out", out],
                           capture_output=True, text=True, check=True).stdout.split()
    found = dict(zip(built[::2], built[1::2]))
    import resource
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the largest child so far: page_bench
    opened = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "browser", "first_render.py"), out, "--runs", "3"],
                            capture_output=True, text=True)
    rendered = dict(zip(opened.stdout.split()[::2], opened.stdout.split()[1::2]))
    if opened.returncode != 0:
        say(f"# page: chromium reported errors: {opened.stderr.strip()[:300]}")
    return [f"# page: a synthetic run of {n} principals, built by page::render (dev profile), best of 3 loads in headless chromium",
            f"html_bytes: {found.get('html_bytes', 'n/a')}",
            f"html_build_s: {found.get('html_build_s', 'n/a')}",
            f"html_build_peak_rss_mb: {peak_mb:.0f}",
            f"html_first_render_s: {rendered.get('html_first_render_s', 'n/a')}"]


def run_peer(endpoint, control, rate, job_seconds, fraction, local_dir):
    import subprocess

    custodian = os.path.join(ROOT, ".venv-c7n", "bin", "custodian")
    policy = os.environ.get("C7N_POLICY") or os.path.join(HERE, "c7n-policy.yml")
    out_dir = os.path.join(local_dir, "c7n-out")
    # a fresh bucket and the same throttle; stats are diffed (a reset would wipe the account)
    http_json(control + "/config", {"job_seconds": job_seconds, "throttle": {"rate": None, "burst": None, "fraction": 0.0}})
    http_json(control + "/config", {"job_seconds": job_seconds, "throttle": {"rate": rate, "burst": rate, "fraction": fraction}})
    stats0 = http_json(control + "/stats")
    penv = dict(os.environ, AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                AWS_DEFAULT_REGION="us-east-1", AWS_REGION="us-east-1",
                AWS_RETRY_MODE=os.environ.get("C7N_RETRY_MODE", "standard"), AWS_MAX_ATTEMPTS=os.environ.get("C7N_MAX_ATTEMPTS", "10"))
    penv.pop("AWS_PROFILE", None)
    say(f"peer: custodian run {os.path.relpath(policy, ROOT)} (AWS_RETRY_MODE={penv['AWS_RETRY_MODE']} AWS_MAX_ATTEMPTS={penv['AWS_MAX_ATTEMPTS']})")
    t0 = time.time()
    proc = subprocess.run([custodian, "run", "--cache-period", "0", "-s", out_dir, "--region", "us-east-1", policy],
                          env=penv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wall = time.time() - t0
    stats1 = http_json(control + "/stats")
    calls = {k: v - stats0["calls"].get(k, 0) for k, v in stats1["calls"].items() if v - stats0["calls"].get(k, 0)}
    throttled = {k: v - stats0["throttled"].get(k, 0) for k, v in stats1["throttled"].items() if v - stats0["throttled"].get(k, 0)}
    total = stats1["total_calls"] - stats0["total_calls"]
    scanned = calls.get("GenerateServiceLastAccessedDetails", 0) - throttled.get("GenerateServiceLastAccessedDetails", 0)
    say(f"peer: exit {proc.returncode} in {wall:.1f}s; iam calls by action {json.dumps(calls, sort_keys=True)}; throttled {json.dumps(throttled, sort_keys=True)}")
    lines = [l for l in proc.stdout.splitlines() if "Filtered from" in l or "ERROR" in l or "Error" in l or "Traceback" in l]
    for l in lines[-12:]:
        say(f"peer log: {l[:300]}")
    notes = [f"# peer: Cloud Custodian (c7n) usage filter over iam-role, iam-user, iam-group, iam-policy (Scope=Local); "
             f"principals scanned = successful GenerateServiceLastAccessedDetails = {scanned}; exit code {proc.returncode}"]
    if proc.returncode != 0:
        notes.append("# peer: custodian exited non-zero; its figures cover what it scanned before failing")
    return notes + [f"peer_wall_s: {wall:.1f}", f"peer_iam_calls_per_principal: {total / max(scanned, 1):.3f}"]


if __name__ == "__main__":
    sys.exit(main())
