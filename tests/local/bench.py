#!/usr/bin/env python3
"""One full scan on the local stack, measured; then Cloud Custodian's `usage` filter as the peer.

Run by tests/local/bench.sh (which brings the stack up and down). Reads $LOCAL_DIR/env.
Environment: N (2000), R (10), JOB_SECONDS (5), THROTTLE_FRACTION (0), GRANULARITY
(SERVICE_LEVEL), PEER (1 = run Cloud Custodian too), SEED_THREADS (8), MAX_CONCURRENCY /
BATCH_SIZE (the stack's defaults, only echoed here), RUN_INPUT (extra JSON merged into
the run input), ACCOUNTS (1), INCREMENTAL (0) and CHURN (0.1): with INCREMENTAL=1, after
the figures' scan, bench_incremental.py's churn, incremental scan and full scan, compared
(its own figures, after these; INCREMENTAL_RUN_INPUT: JSON merged into the incremental
run's input alone).

ACCOUNTS=A > 1 scans an Organization instead of the stack's own account: A member accounts
are made as AWS Organizations makes them (CreateAccount, the member role deployed from
infra/member-role.yaml through each account's OrganizationAccountAccessRole: seed.py's
member_account), the N principals are spread over them (N/A each, a different seed per
account), the emulated IAM rate R applies to each account on its own (the emulator's
throttle buckets are per account), and the run is {"organization": {"all": true,
"exclude": [the management account], "max_accounts_in_parallel": A}} so every member
account is scanned side by side, each paced by MAX_CONCURRENCY x IAM_REQUESTS_PER_SECOND
~ R (the stack's defaults apply inside every account; bench.sh says how it picks them).
Each member account also holds its OrganizationAccountAccessRole and the member role, which
a scan of the account includes (N + 2 x A principals). The management account holds only
the scanner stack, so it is left out: the principals are exactly the N seeded. Besides the
usual figures it prints `accounts`, `org_lower_bound_s` (the largest account's IAM calls
/ R, plus the job time: the accounts' buckets refill side by side, so the busiest account
bounds the run; throttled calls count, as in lower_bound_s) and `org_wall_over_lower_bound`;
per-account calls come from the emulator's stats (`by_account`). `lower_bound_s` is still
all calls / R, as if one account: not a bound here. The Map children of the accounts Map
(PlanAccount … AccountDone; moto keeps no history of them) are rebuilt like the batches'
and counted in state_transitions_per_principal and max_history_events; a run of the stack's
own account has one such child too. With ACCOUNTS unset or 1 nothing else changes.

The figures are the LAST lines of stdout, one `name: value` each. Lines starting with
`#` are comments about the figures.

How the Map children are measured: moto runs a Distributed Map's children inline and
throws their history away (list_executions(mapRunArn) / their histories do not exist
locally). So the bench puts a recording proxy between the emulator's Lambda bridge and
the runtime API (tests/local/runtime_api.py) of each function (emulator config `lambda_bridge_functions`:
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
import bench_incremental  # noqa: E402

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
            index, account, kind = None, None, None
            try:
                payload = json.loads(body or b"{}")
                if isinstance(payload, dict):
                    # Generate and Write are sent their batch in an envelope (`batch`,
                    # or `failed` from the child's Catch); Check gets the state as is.
                    inner = payload
                    if fn in ("generate", "write"):
                        inner = next((payload[e] for e in ("batch", "failed") if isinstance(payload.get(e), dict)), payload)
                    if isinstance(inner.get("batch"), dict):
                        index = inner["batch"].get("index")
                    elif "index" in inner:
                        index = inner.get("index")
                    account, kind = invocation_of(fn, payload)
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
                forwarded = {k: v for k, v in self.headers.items()
                             if k.lower() in ("lambda-runtime-deadline-ms", "lambda-runtime-invoked-function-arn")}
                conn.request("POST", path, body=body, headers={"Content-Type": "application/json", **forwarded})
                resp = conn.getresponse()
                status, out = resp.status, resp.read()
                headers = {k: v for k, v in resp.getheaders() if k.lower() in ("content-type", "x-amz-function-error")}
                conn.close()
            except Exception as exc:  # noqa: BLE001
                out = json.dumps({"errorType": "Lambda.BenchProxy", "errorMessage": str(exc)}).encode()
            t1 = time.time()
            ok = 200 <= status < 300 and not headers.get("X-Amz-Function-Error") and not any(k.lower() == "x-amz-function-error" for k in headers)
            entry = {"fn": fn, "index": index, "t0": t0, "t1": t1, "ok": ok, "error": None, "pending": None, "wait": None,
                     "account": account, "kind": kind, "scan": None, "probe": None}
            try:
                parsed = json.loads(out or b"null")
                if isinstance(parsed, dict):
                    if "errorType" in parsed:
                        entry["ok"] = False
                        entry["error"] = parsed.get("errorType")
                    entry["pending"] = parsed.get("pending")
                    entry["wait"] = parsed.get("wait_seconds")
                    entry["scan"] = parsed.get("scan")
                    entry["probe"] = parsed.get("probe")
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


def invocation_of(fn, payload):
    """(account id, kind) of an invocation from its payload (the ASL's Parameters): kind is
    plan_account (PlanAccount), record_account_failure (RecordAccountFailure), probe (a
    preflight: the run's own, or AccountPreflight when PlanAccount asked for one), else None."""
    def account_of(d):
        if not isinstance(d, dict):
            return None
        acct = d.get("account")
        if isinstance(acct, dict) and acct.get("id"):
            return acct["id"]
        run = d.get("run")
        if isinstance(run, dict) and isinstance(run.get("account"), dict):
            return run["account"].get("id")
        return None

    # Each payload is the envelope the ASL names its step by: {"account_failed": …},
    # {"account": …}, {"probe": …}, {"batch": …}, {"failed": …}, {"start": …}.
    if fn == "plan" and isinstance(payload.get("account_failed"), dict):
        return account_of(payload["account_failed"]), "record_account_failure"
    if fn == "plan" and isinstance(payload.get("account"), dict):
        return account_of(payload["account"]), "plan_account"
    if fn == "generate" and isinstance(payload.get("probe"), dict):
        return account_of(payload["probe"]), "probe"
    for envelope in ("batch", "failed"):
        if isinstance(payload.get(envelope), dict):
            return account_of(payload[envelope]), None
    return account_of(payload), None


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


def account_histories(records):
    """Per account: (events, state_entered, retries) of its child execution of the accounts
    Map (ScanAccounts), rebuilt as AWS writes it: ExecutionStarted; PlanAccount (a Task);
    AccountScan (a Choice); AccountPreflight (a Task) when PlanAccount asked for a probe;
    ScanBatches (a Distributed Map: MapStateEntered, MapRunStarted, MapRunSucceeded|Failed,
    MapStateExited); RecordAccountFailure (a Task) when it ran; AccountDone (a Pass);
    ExecutionSucceeded. moto runs these children inline and keeps no history of them either;
    a run of the stack's own account has one (its PlanAccount asks for no probe: the run's
    Preflight did it)."""
    by_account = defaultdict(lambda: defaultdict(list))
    for r in records:
        if r.get("account") and r.get("kind"):
            by_account[r["account"]][r["kind"]].append(r)
    out = {}
    for account, kinds in by_account.items():
        plans = kinds.get("plan_account", [])
        if not plans:
            continue  # the top-level Preflight of a run of the stack's own account
        events, entered, retries = 2, 0, 0

        def task(attempts):
            nonlocal events, entered, retries
            events += 2 + 3 * len(attempts)
            entered += 1
            retries += sum(1 for a in attempts if not a["ok"])

        task(plans)
        planned = next((p for p in plans if p["ok"]), None)
        if planned is not None:
            events += 2  # AccountScan
            entered += 1
            if planned.get("scan") is not False:
                if planned.get("probe"):
                    task(kinds.get("probe", []) or [{"ok": True}])
                events += 4  # ScanBatches
                entered += 1
        if kinds.get("record_account_failure"):
            task(kinds["record_account_failure"])
        events += 2  # AccountDone
        entered += 1
        out[account] = (events, entered, retries)
    return out


def find_summary(s3, bucket, run_id):
    """The run's summary key (a run that ended IncompleteRun has one but no output)."""
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="reports/runs/"):
        for o in page.get("Contents", []):
            if o["Key"].endswith(f"/run={run_id}/summary.json"):
                return o["Key"]
    return None


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
    accounts_n = max(1, int(os.environ.get("ACCOUNTS") or "1"))
    org = accounts_n > 1
    incremental = os.environ.get("INCREMENTAL", "0") not in ("0", "false", "no", "")
    if incremental and org:
        raise SystemExit("bench: INCREMENTAL=1 runs on one account (leave ACCOUNTS unset or 1)")
    kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    sfn, s3 = boto3.client("stepfunctions", **kw), boto3.client("s3", **kw)

    # 1. seed (no throttle yet: every IAM call counts against the bucket)
    http_json(control + "/config", {"job_seconds": job_seconds, "throttle": {"rate": None, "burst": None, "fraction": 0.0}})
    members = []
    if not org:
        truth = seeding.seed(endpoint, n, threads=int(os.environ.get("SEED_THREADS", "8")), log=lambda m: None)
        say(f"seeding: {n} principals {truth.counts}, {truth.iam_calls} IAM calls, {truth.activity_records} activity records in {truth.seconds:.1f}s")
    else:
        t_seed = time.time()
        members = [seeding.member_account(endpoint, f"bench-{k + 1:02d}") for k in range(accounts_n)]
        shares = [n // accounts_n + (1 if k < n % accounts_n else 0) for k in range(accounts_n)]
        counts, seeded_calls, records = Counter(), 0, 0
        for k, (member, share) in enumerate(zip(members, shares)):
            truth = seeding.seed(endpoint, share, threads=int(os.environ.get("SEED_THREADS", "8")), seed_value=42 + k,
                                 account=member.id, credentials=member.credentials, log=lambda m: None)
            counts.update(truth.counts)
            seeded_calls += truth.iam_calls
            records += truth.activity_records
        say(f"seeding: {n} principals in {accounts_n} member accounts ({'/'.join(map(str, sorted(set(shares), reverse=True)))} each, "
            f"member role deployed in each) {dict(counts)}, {seeded_calls} IAM calls, {records} activity records in {time.time() - t_seed:.1f}s")

    # 2. the emulated IAM: rate R (burst R), job time, random throttling
    cfg = http_json(control + "/config", {"job_seconds": job_seconds, "throttle": {"rate": rate, "burst": rate, "fraction": fraction}})
    say(f"emulator: job_seconds={cfg['job_seconds']} throttle={cfg['throttle']}{' per account' if org else ''}; lambdas: IAM_REQUESTS_PER_SECOND={os.environ.get('IAM_REQUESTS_PER_SECOND')} "
        f"IAM_BURST={os.environ.get('IAM_BURST')} MAX_CONCURRENCY={os.environ.get('MAX_CONCURRENCY')} BATCH_SIZE={os.environ.get('BATCH_SIZE')} "
        f"LAMBDA_CONCURRENCY={os.environ.get('LAMBDA_CONCURRENCY')}")

    # 3. the recording proxy in front of each function's runtime API
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
    if org:
        run_input["organization"] = {"all": True, "exclude": [seeding.ACCOUNT], "max_accounts_in_parallel": accounts_n}
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
    if not summary_key and org:
        summary_key = find_summary(s3, env["REPORT_BUCKET"], name)
    summary = {}
    if summary_key:
        summary = json.loads(s3.get_object(Bucket=env["REPORT_BUCKET"], Key=summary_key)["Body"].read())
        say(f"summary: s3://{env['REPORT_BUCKET']}/{summary_key}")
    counts = summary.get("counts", {})
    principals = output.get("principals") or counts.get("principals_planned") or 0
    reports = output.get("reports_written") if "reports_written" in output else counts.get("reports_written", 0)
    by_status = output.get("by_status") or counts.get("by_status")
    say(f"by_status: {json.dumps(by_status)}  " + ("(the member accounts' principals; the management account is excluded)"
                                                  if org else "(principals include the stack's own roles)"))

    calls = {k: v - stats0["calls"].get(k, 0) for k, v in stats1["calls"].items() if v - stats0["calls"].get(k, 0)}
    throttled = {k: v - stats0["throttled"].get(k, 0) for k, v in stats1["throttled"].items() if v - stats0["throttled"].get(k, 0)}
    iam_calls = stats1["total_calls"] - stats0["total_calls"]
    say(f"iam calls by action: {json.dumps(calls, sort_keys=True)}; throttled: {json.dumps(throttled, sort_keys=True)}")
    # per account (the emulator's stats by the caller's account): calls and throttled calls
    by_account = {}
    for account, now in stats1.get("by_account", {}).items():
        was = stats0.get("by_account", {}).get(account, {"total_calls": 0, "total_throttled": 0})
        if now["total_calls"] - was["total_calls"]:
            by_account[account] = (now["total_calls"] - was["total_calls"], now["total_throttled"] - was["total_throttled"])
    if org:
        names = {m.id: m.name for m in members}
        say("iam calls by account: " + ", ".join(f"{names.get(a, a)}={c} (throttled {t})" for a, (c, t) in sorted(by_account.items(), key=lambda kv: names.get(kv[0], kv[0]))))
        accounts_line = {a["id"]: a for a in summary.get("accounts", [])}
        not_done = {a: l["status"] for a, l in accounts_line.items() if l["status"] != "SUCCEEDED"}
        if not_done:
            say(f"accounts not fully scanned: {json.dumps(not_done)}")

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
    account_children = account_histories(rec.records)
    child_events = [c[0] for c in children.values()] + [c[0] for c in account_children.values()]
    child_entered = sum(c[1] for c in children.values()) + sum(c[1] for c in account_children.values())
    child_retries = sum(c[2] for c in children.values()) + sum(c[2] for c in account_children.values())
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
        say(f"map children: {len(children)}{f' batches in {len(account_children)} accounts' if org else ''}; Check rounds per batch "
            f"min/avg/max {min(checks)}/{sum(checks) / len(checks):.2f}/{max(checks)}; Wait seconds scheduled total {sum(waits):.0f}")
    if org:
        # each account's span, from its PlanAccount's start to its last Lambda's end, against its own bound
        spans = []
        for account in sorted(account_children):
            own = [r for r in rec.records if r.get("account") == account]
            if own and account in by_account:
                span = max(r["t1"] for r in own) - min(r["t0"] for r in own)
                spans.append((account, span, by_account[account][0] / rate + job_seconds))
        if spans:
            say("account spans (PlanAccount start to last Lambda end) / own bound: "
                + " ".join(f"{s:.0f}/{b:.0f}" for _, s, b in spans)
                + f"; first account started {min(min(r['t0'] for r in rec.records if r.get('account') == a) for a, _, _ in spans) - t_start:.1f}s "
                  f"after StartExecution, last Lambda ended {max(r['t1'] for r in rec.records) - t_start:.1f}s after it")

    # 6. peak RSS of the binaries (the function processes stay alive between invocations)
    watch_pids = {int(open(p).read().strip()) for pattern in ("watch*.pid", "fn-*.pid")
                  for p in glob.glob(os.path.join(local_dir, pattern))}
    peak, instances = rss_by_function(watch_pids)

    # 7. the peer: Cloud Custodian's usage filter, same account, emulator, R and job time
    peer_lines = []
    if peer and org:
        peer_lines = ["# peer: skipped: Cloud Custodian's usage filter scans one account (PEER applies to ACCOUNTS=1)"]
    elif peer:
        peer_lines = run_peer(endpoint, control, rate, job_seconds, fraction, local_dir)

    # 8. the run's page at 15,500 principals: built by page::render as Summarize builds it
    #    (the page_bench example, dev profile), then opened in headless chromium
    page_lines = page_figures(local_dir)

    # 9. INCREMENTAL=1: churn, an incremental scan, a full scan, compared (bench_incremental.py)
    inc_comments, inc_figures, inc_ok = [], [], True
    if incremental:
        ctx = dict(sfn=sfn, s3=s3, env=env, control=control, http_json=http_json, post=seeding._post, endpoint=endpoint,
                   truth=truth, n=n, rate=rate, job_seconds=job_seconds, fraction=fraction)
        inc_comments, inc_figures, inc_ok = bench_incremental.run(ctx, run_input, say)

    lower = iam_calls / rate + job_seconds
    org_lower = (max(c for c, _ in by_account.values()) if by_account else 0) / rate + job_seconds
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
    if org:
        figures += [
            ("accounts", len(account_children) or accounts_n),
            ("org_lower_bound_s", f"{org_lower:.1f}"),
            ("org_wall_over_lower_bound", f"{wall / org_lower:.3f}"),
        ]
    say()
    say(f"# state transitions = *StateEntered events (the billing definition, retries not counted): parent {parent_entered} "
        f"(moto's history) + {child_entered} in {len(children)} batch and {len(account_children)} account Map children (rebuilt from the recorded Lambda invocations; "
        f"{child_retries} retried attempts); max_history_events: parent {len(events)}, largest child {max(child_events) if child_events else 0}")
    say(f"# iam calls {iam_calls} (throttled {stats1['total_throttled'] - stats0['total_throttled']}) from after seeding to the end; "
        f"lower_bound_s = calls / R({rate:g}) + job time({job_seconds:g}); peak_rss_mb = max VmHWM over {dict(instances)} instances")
    if org:
        busiest = max(by_account.items(), key=lambda kv: kv[1][0]) if by_account else ("-", (0, 0))
        say(f"# organization: R applies to each account on its own, so lower_bound_s (all calls against one R) is not the bound; "
            f"org_lower_bound_s = the busiest account's calls ({busiest[1][0]} by {names.get(busiest[0], busiest[0])}, "
            f"{busiest[1][1]} of them throttled) / R({rate:g}) + job time({job_seconds:g})")
        if by_account:
            clean = max(c - t for c, t in by_account.values()) / rate + job_seconds
            say(f"# throttled calls count in the bound (as in lower_bound_s); without them the busiest account's bound is "
                f"{clean:.1f}s and wall / it {wall / clean:.3f}")
    for line in peer_lines + inc_comments:
        if line.startswith("#"):
            say(line)
    for k, v in figures:
        say(f"{k}: {v}")
    for line in page_lines:
        say(line)
    for line in peer_lines:
        if not line.startswith("#"):
            say(line)
    for line in inc_figures:
        say(line)
    ok = status == "SUCCEEDED" and principals > 0 and reports == principals and inc_ok
    if org:
        ok = ok and len(account_children) == accounts_n
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
