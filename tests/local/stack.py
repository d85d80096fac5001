#!/usr/bin/env python3
"""The local stack: the emulator (moto + access advisor), infra/template.yaml deployed into
it as a CloudFormation stack, and one Lambda runtime API (tests/local/runtime_api.py) per deployed
function.

    python tests/local/stack.py up [--template PATH]   # writes $LOCAL_DIR/env (export lines)
    python tests/local/stack.py down                    # stops every process by its PID

`up` does what `sam package` + `sam deploy` do, offline: it uploads each function's code
(a dummy zip: the code is served by the local runtime API) and the state machine's
definition to an artifact bucket in moto, points CodeUri / DefinitionUri at them, runs the
SAM transform (aws-sam-translator, no AWS call), and creates the result as the
CloudFormation stack `iam-last-accessed` (STACK_NAME) in moto. Parameters for local runs
come from IAM_REQUESTS_PER_SECOND (50), IAM_BURST (10), MAX_CONCURRENCY (4), BATCH_SIZE
(50), AWS_LAMBDA_LOG_LEVEL (info), SECURITY_HUB_FINDINGS (true: the local account's Security
Hub is enabled at `up`); the schedule is disabled. The template is TEMPLATE or
--template (default infra/template.yaml); a copy elsewhere may keep the relative
CodeUri / DefinitionUri of the original (they are resolved next to the copy, else in infra/).

Each function is served as Lambda serves it: tests/local/runtime_api.py on
LAMBDA_PORT, LAMBDA_PORT+1, … (in the template's order) is its runtime API, and
LAMBDA_CONCURRENCY (4) processes of the binary the test build made (target/debug/<binary>;
nothing is compiled here) poll it, each with the function's deployed Environment (as
GetFunctionConfiguration returns it), the local-only endpoint settings and its execution
role's credentials (`function_credentials_env`). The emulator's Lambda bridge
(`lambda_bridge_functions`) routes each deployed function's Invoke to its runtime API, with the
invocation's deadline (the invoke's time plus the function's Timeout), and enforces the Timeout.

Ports: EMULATOR_PORT (5000), LAMBDA_PORT (9000, and the next ones); state directory LOCAL_DIR
(.local). Everything it starts is recorded in $LOCAL_DIR/*.pid and logs to $LOCAL_DIR/*.log.
"""
import glob
import hashlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import zipfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# LOCAL_DIR lets two stacks run side by side (with other EMULATOR_PORT / LAMBDA_PORT).
LOCAL = os.path.abspath(os.environ.get("LOCAL_DIR", os.path.join(ROOT, ".local")))
VENV_BIN = os.path.join(ROOT, ".venv", "bin")
DEFAULT_TEMPLATE = os.path.join(ROOT, "infra", "template.yaml")
ACCOUNT = "123456789012"
REGION = "us-east-1"
STACK_NAME = os.environ.get("STACK_NAME", "iam-last-accessed")
ARTIFACT_BUCKET = "iam-last-accessed-local-artifacts"
# Credentials never inherited by a function runtime from this process's environment.
CREDENTIAL_VARS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                   "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_SECURITY_TOKEN")


def function_credentials_env(function_name: str, role_arn: str) -> dict:
    """The credential variables of the runtime serving the deployed function `function_name`
    (whose execution role is `role_arn`): AWS_CONFIG_FILE names a profile whose
    credential_process asks the emulator for an STS session of the function's role, as
    Lambda gives it (tests/emulator/lambda_credentials.py; the emulator runs --enforce-iam)."""
    sys.path.insert(0, os.path.join(ROOT, "tests", "emulator"))
    from lambda_credentials import config_file_env

    return config_file_env(function_name, LOCAL, os.path.join(VENV_BIN, "python"))


def emulator_port():
    return int(os.environ.get("EMULATOR_PORT", "5000"))


def lambda_port():
    return int(os.environ.get("LAMBDA_PORT", "9000"))


def log(message):
    print(f"[local-stack] {message}", flush=True)


def pid_file(name):
    return os.path.join(LOCAL, f"{name}.pid")


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def stop(name):
    path = pid_file(name)
    if not os.path.exists(path):
        return
    pid = int(open(path).read().strip() or 0)
    if pid and alive(pid):
        log(f"stopping {name} (pid {pid})")
        try:
            os.killpg(pid, signal.SIGTERM)  # the process group: any children too
        except OSError:
            pass
        for _ in range(100):
            if not alive(pid):
                break
            time.sleep(0.1)
    if pid:
        try:  # whatever is left of the group
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
    try:  # a concurrent `down` may have removed it already
        os.remove(path)
    except FileNotFoundError:
        pass


def stop_all():
    """Every function process and runtime API (whatever functions the last template had),
    then the emulator."""
    for pattern in ("fn-*.pid", "runtime-*.pid", "watch*.pid"):
        for path in sorted(glob.glob(os.path.join(LOCAL, pattern))):
            stop(os.path.basename(path)[: -len(".pid")])
    stop("emulator")


def start(name, argv, env):
    out = open(os.path.join(LOCAL, f"{name}.log"), "wb")
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    with open(pid_file(name), "w") as f:
        f.write(str(proc.pid))
    return proc


def wait_port(port, proc, name, seconds):
    logfile = os.path.join(LOCAL, f"{name}.log")
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{name} exited with {proc.returncode}; see {logfile}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"{name} did not listen on {port} within {seconds}s; see {logfile}")


def port_free(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


# ------------------------------------------------------------------ the template
# The template as CloudFormation reads it: the bundle's own reader (infra/package.py), so the
# local stack and the release bundle read one template the same way.
sys.path.insert(0, os.path.join(ROOT, "infra"))
from package import load_template  # noqa: E402


def dummy_zip(binary):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        info = zipfile.ZipInfo("bootstrap", date_time=(2020, 1, 1, 0, 0, 0))
        z.writestr(info, f"{binary}: served by the local runtime API (tests/local/runtime_api.py) through the emulator's Lambda bridge\n")
    return buf.getvalue()


def local_path(uri, template_path):
    """A template-relative path, next to the template, else next to infra/template.yaml."""
    for base in (os.path.dirname(os.path.abspath(template_path)), os.path.dirname(DEFAULT_TEMPLATE)):
        candidate = os.path.normpath(os.path.join(base, uri))
        if os.path.exists(candidate):
            return candidate
    return os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(template_path)), uri))


def package(template, template_path, s3):
    """What `sam package` does: upload code and definitions, point the template at them.
    Returns {function logical id: binary name}."""
    s3.create_bucket(Bucket=ARTIFACT_BUCKET)

    def upload(body):
        key = hashlib.md5(body).hexdigest()
        s3.put_object(Bucket=ARTIFACT_BUCKET, Key=key, Body=body)
        return f"s3://{ARTIFACT_BUCKET}/{key}"

    global_code = ((template.get("Globals") or {}).get("Function") or {}).get("CodeUri")
    binaries = {}
    for logical_id, resource in (template.get("Resources") or {}).items():
        props = resource.setdefault("Properties", {})
        if resource.get("Type") == "AWS::Serverless::Function":
            code_uri = props.get("CodeUri", global_code)
            if not isinstance(code_uri, str) or code_uri.startswith("s3://"):
                raise SystemExit(f"{logical_id}: CodeUri must be a local path (got {code_uri!r})")
            build = (resource.get("Metadata") or {}).get("BuildProperties") or {}
            binary = build.get("Binary") or os.path.basename(os.path.normpath(code_uri))
            binaries[logical_id] = binary
            props["CodeUri"] = upload(dummy_zip(binary))
        elif resource.get("Type") == "AWS::Serverless::StateMachine" and isinstance(props.get("DefinitionUri"), str):
            uri = props["DefinitionUri"]
            if not uri.startswith("s3://"):
                with open(local_path(uri, template_path), "rb") as f:
                    props["DefinitionUri"] = upload(f.read())
    return binaries


def translate(template):
    """The AWS::Serverless-2016-10-31 transform, offline (as `sam validate` runs it): the
    template names no AWS-managed policy by name, so the policy map is empty."""
    import boto3
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=REGION))
    return translator.translate(template, parameter_values={}, get_managed_policy_map=lambda: {})


def stack_parameters(template):
    wanted = {
        "IamRequestsPerSecond": os.environ.get("IAM_REQUESTS_PER_SECOND", "50"),
        "IamBurst": os.environ.get("IAM_BURST", "10"),
        "MaxConcurrency": os.environ.get("MAX_CONCURRENCY", "4"),
        # A ceiling as well as the default: the demo's and bench's Organizations fit under it.
        "MaxAccountsInParallel": os.environ.get("MAX_ACCOUNTS_IN_PARALLEL", "20"),
        "BatchSize": os.environ.get("BATCH_SIZE", "50"),
        "ScheduleEnabled": "false",
        # The local stack imports Security Hub findings (its account's hub is enabled at up).
        "SecurityHubFindings": os.environ.get("SECURITY_HUB_FINDINGS", "true"),
        "LogLevel": os.environ.get("AWS_LAMBDA_LOG_LEVEL", "info").lower(),
    }
    declared = template.get("Parameters") or {}
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in wanted.items() if k in declared]


def settled(cfn, name, seconds, poll):
    """The stack `name` once it is no longer *_IN_PROGRESS (or `seconds` have passed)."""
    deadline = time.time() + seconds
    while True:
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
        if not stack["StackStatus"].endswith("_IN_PROGRESS") or time.time() > deadline:
            return stack
        time.sleep(poll)


def deploy(endpoint, template_path):
    """Package, transform and create the stack; returns (outputs, functions) where functions
    is a list of {logical, name, binary, role, env} in the template's order."""
    import boto3

    kw = dict(endpoint_url=endpoint, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
    s3, cfn, lam = (boto3.client(s, **kw) for s in ("s3", "cloudformation", "lambda"))
    template = load_template(template_path)
    binaries = package(template, template_path, s3)
    translated = translate(template)
    body = json.dumps(translated, separators=(",", ":"))
    with open(os.path.join(LOCAL, "template.json"), "w") as f:
        json.dump(translated, f, indent=1)
    args = dict(StackName=STACK_NAME, Parameters=stack_parameters(translated),
                Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"])
    if len(body) > 51200:  # CloudFormation's TemplateBody limit: upload it, as sam deploy does
        s3.put_object(Bucket=ARTIFACT_BUCKET, Key=f"{STACK_NAME}.template", Body=body.encode())
        args["TemplateURL"] = f"https://{ARTIFACT_BUCKET}.s3.amazonaws.com/{STACK_NAME}.template"
    else:
        args["TemplateBody"] = body
    log(f"creating stack {STACK_NAME} from {os.path.relpath(template_path, ROOT)}")
    cfn.create_stack(**args)
    stack = settled(cfn, STACK_NAME, seconds=300, poll=0.5)
    if stack["StackStatus"] != "CREATE_COMPLETE":
        events = cfn.describe_stack_events(StackName=STACK_NAME)["StackEvents"]
        for e in reversed(events):
            if e.get("ResourceStatusReason") and "FAILED" in e["ResourceStatus"]:
                log(f"  {e['LogicalResourceId']} ({e['ResourceType']}): {e['ResourceStatus']}: {e['ResourceStatusReason']}")
        raise SystemExit(f"stack {STACK_NAME} ended {stack['StackStatus']}")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs") or []}
    physical = {r["LogicalResourceId"]: r["PhysicalResourceId"]
                for r in cfn.describe_stack_resources(StackName=STACK_NAME)["StackResources"]}
    functions = []
    for logical, binary in binaries.items():
        if logical not in physical:
            continue  # a function under a false Condition
        conf = lam.get_function_configuration(FunctionName=physical[logical])
        functions.append({"logical": logical, "name": conf["FunctionName"], "binary": binary, "role": conf["Role"],
                          "memory": conf.get("MemorySize", 128),
                          "env": (conf.get("Environment") or {}).get("Variables") or {}})
    return outputs, functions


# ------------------------------------------------------------------ the runtimes
def runtime_env(function, endpoint):
    """The function's deployed Environment + what only a local runtime needs."""
    env = dict(function["env"])
    env.update({
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_REGION": REGION,
        "S3_FORCE_PATH_STYLE": "true",
        "IAM_PAGE_SIZE": os.environ.get("IAM_PAGE_SIZE", "1000"),
        "IAM_MAX_ATTEMPTS": os.environ.get("IAM_MAX_ATTEMPTS", "8"),
        "AWS_LAMBDA_LOG_LEVEL": os.environ.get("AWS_LAMBDA_LOG_LEVEL", "info"),
    })
    env.update(function_credentials_env(function["name"], function["role"]))
    return env


def watcher_env():
    env = {k: v for k, v in os.environ.items() if k not in CREDENTIAL_VARS}
    env["PATH"] = f"{VENV_BIN}:{os.environ.get('PATH', '')}"
    return env


def function_process_env(function, endpoint, runtime_api):
    """What Lambda gives a function's process: its deployed Environment, its role's
    credentials (never the caller's), and the runtime API to poll."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/root")}
    env.update(runtime_env(function, endpoint))
    env.update({
        "AWS_LAMBDA_RUNTIME_API": runtime_api,
        "AWS_LAMBDA_FUNCTION_NAME": function["name"],
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.get("memory", 256)),
        "AWS_LAMBDA_MAX_CONCURRENCY": "1",
    })
    return env


def serve(function, port, endpoint):
    """One function: tests/local/runtime_api.py is its Lambda runtime API (the Invoke side
    the bridge posts to, with each invocation's deadline, and the runtime's next/response
    side), and LAMBDA_CONCURRENCY processes of the binary `make build` made
    (target/debug/<binary>, the test build: nothing is compiled again) poll it, each one
    invocation at a time, as Lambda's sandboxes do. Returns the bridge route of the function."""
    binary = os.path.join(ROOT, "target", "debug", function["binary"])
    if not os.access(binary, os.X_OK):
        raise SystemExit(f"{binary} is missing: run `make build` first")
    name = f"runtime-{function['binary']}"
    log(f"starting the runtime API of {function['name']} ({function['binary']}) on 127.0.0.1:{port}")
    proc = start(name, [os.path.join(VENV_BIN, "python"), "tests/local/runtime_api.py", "--port", str(port),
                        "--function", function["name"]], watcher_env())
    wait_port(port, proc, name, 60)
    env = function_process_env(function, endpoint, f"127.0.0.1:{port}")
    with open(os.path.join(LOCAL, f"lambda-{function['binary']}.env"), "w") as f:
        for k, v in env.items():
            f.write(f"{k}={v}\n")
    for i in range(int(os.environ.get("LAMBDA_CONCURRENCY", "4"))):
        start(f"fn-{function['binary']}-{i}", [binary], env)
    return f"http://127.0.0.1:{port}/{function['binary']}"


def up(template_path):
    os.makedirs(LOCAL, exist_ok=True)
    stop_all()
    template_path = os.path.abspath(template_path)
    if not os.path.exists(template_path):
        raise SystemExit(f"no template {template_path}")
    port, lport = emulator_port(), lambda_port()
    count = sum(1 for r in (load_template(template_path).get("Resources") or {}).values()
                if r.get("Type") == "AWS::Serverless::Function")
    for p, var in [(port, "EMULATOR_PORT")] + [(lport + i, "LAMBDA_PORT") for i in range(count)]:
        if not port_free(p):
            raise SystemExit(f"port {p} is in use by another process: stop it, or set {var} (and LOCAL_DIR) for a second stack")
    endpoint = f"http://127.0.0.1:{port}"
    env = dict(os.environ, EMULATOR_PORT=str(port))
    env.pop("LAMBDA_BRIDGE_URL", None)
    try:
        log(f"starting the emulator on {endpoint}")
        emulator = start("emulator", [os.path.join(VENV_BIN, "python"), "tests/emulator/server.py", "--host", "127.0.0.1", "--port", str(port),
                                      "--enforce-iam"], env)
        wait_port(port, emulator, "emulator", 60)
        import boto3  # the local account is an Organization's management account (idempotent)
        orgs = boto3.client("organizations", endpoint_url=endpoint, region_name=REGION,
                            aws_access_key_id="testing", aws_secret_access_key="testing")
        try:
            orgs.describe_organization()
        except orgs.exceptions.AWSOrganizationsNotInUseException:
            orgs.create_organization(FeatureSet="ALL")
        # Security Hub enabled in the local account, as an account that imports findings
        # must have it (the stack's SecurityHubFindings is on locally).
        hub = boto3.client("securityhub", endpoint_url=endpoint, region_name=REGION,
                           aws_access_key_id="testing", aws_secret_access_key="testing")
        try:
            hub.enable_security_hub(EnableDefaultStandards=False)
        except hub.exceptions.ResourceConflictException:
            pass
        outputs, functions = deploy(endpoint, template_path)
        routes = {fn["name"]: serve(fn, lport + i, endpoint) for i, fn in enumerate(functions)}
        control(endpoint, {"lambda_bridge_functions": routes})
        exports = {
            "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION, "S3_FORCE_PATH_STYLE": "true",
            "EMULATOR_URL": endpoint, "LAMBDA_URL": f"http://127.0.0.1:{lport}",
            "STATE_MACHINE_ARN": outputs["StateMachineArn"], "IAM_PAGE_SIZE": os.environ.get("IAM_PAGE_SIZE", "1000"),
            "REPORT_BUCKET": outputs["ReportBucketName"], "READER_ROLE_ARN": outputs["ReaderRoleArn"], "ACCOUNT_ID": ACCOUNT,
            "STACK_NAME": STACK_NAME,
        }
        if outputs.get("AlarmTopicArn"):
            exports["ALARM_TOPIC_ARN"] = outputs["AlarmTopicArn"]
        with open(os.path.join(LOCAL, "env"), "w") as f:
            for k, v in exports.items():
                f.write(f"export {k}={v}\n")
        log(f"up: stack {STACK_NAME}, state machine {exports['STATE_MACHINE_ARN']}, bucket {exports['REPORT_BUCKET']}; "
            f"source {os.path.relpath(os.path.join(LOCAL, 'env'), ROOT)}")
    except BaseException:
        log("up failed: stopping what it started")
        stop_all()
        raise


def control(endpoint, config):
    import urllib.request

    req = urllib.request.Request(f"{endpoint}/moto-api/iam-access-advisor/config", data=json.dumps(config).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def down():
    stop_all()
    for leftover in ["env", "lambda.env", "template.json"] + [os.path.basename(p) for p in glob.glob(os.path.join(LOCAL, "lambda-*.env"))]:
        path = os.path.join(LOCAL, leftover)
        if os.path.exists(path):
            os.remove(path)
    log("down")


def main(argv):
    import argparse

    parser = argparse.ArgumentParser(description="the local stack", usage="stack.py up [--template PATH] | down")
    parser.add_argument("command", choices=["up", "down"])
    parser.add_argument("--template", default=os.environ.get("TEMPLATE") or DEFAULT_TEMPLATE,
                        help="the SAM template to deploy (default: $TEMPLATE, else infra/template.yaml)")
    args = parser.parse_args(argv)
    if args.command == "up":
        up(args.template)
    else:
        down()


if __name__ == "__main__":
    main(sys.argv[1:])
