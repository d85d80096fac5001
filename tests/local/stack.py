#!/usr/bin/env python3
"""The local stack: emulator (moto + access advisor) + `cargo lambda watch` + our
resources created in moto from the same ASL file the SAM stack deploys.

    python tests/local/stack.py up     # writes .local/env (export lines)
    python tests/local/stack.py down   # stops every process by its PID

Ports: EMULATOR_PORT (5000), LAMBDA_PORT (9000); state directory LOCAL_DIR (.local).
Everything it starts is recorded in $LOCAL_DIR/*.pid and logs to $LOCAL_DIR/*.log.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import io
import zipfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# LOCAL_DIR lets two stacks run side by side (with other EMULATOR_PORT / LAMBDA_PORT).
LOCAL = os.path.abspath(os.environ.get("LOCAL_DIR", os.path.join(ROOT, ".local")))
VENV_BIN = os.path.join(ROOT, ".venv", "bin")
ASL = os.path.join(ROOT, "statemachine", "last-accessed.asl.json")
FUNCTIONS = ["plan", "generate", "check", "write", "summarize"]
ACCOUNT = "123456789012"
REGION = "us-east-1"
BUCKET = "iam-last-accessed-local"
READER_ROLE = "iam-last-accessed-reader"
STATE_MACHINE = "iam-last-accessed"
PROCESSES = ["watch", "emulator"]  # stopped in this order


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
            os.killpg(pid, signal.SIGTERM)  # the process group: cargo lambda's children too
        except OSError:
            pass
        for _ in range(100):
            if not alive(pid):
                break
            time.sleep(0.1)
    try:  # whatever is left of the group (cargo lambda's function processes)
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass
    os.remove(path)


def start(name, argv, env):
    out = open(os.path.join(LOCAL, f"{name}.log"), "wb")
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    with open(pid_file(name), "w") as f:
        f.write(str(proc.pid))
    return proc


def wait_port(port, proc, name, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit(f"{name} exited with {proc.returncode}; see .local/{name}.log")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    sys.exit(f"{name} did not listen on {port} within {seconds}s; see .local/{name}.log")


def lambda_env(endpoint, reader_arn):
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION,
        "REPORT_BUCKET": BUCKET,
        "READER_ROLE_ARN": reader_arn,
        "READER_SESSION_NAME": "iam-last-accessed",
        "S3_FORCE_PATH_STYLE": "true",
        "ACCOUNT_ID": ACCOUNT,
        "IAM_REQUESTS_PER_SECOND": os.environ.get("IAM_REQUESTS_PER_SECOND", "50"),
        "IAM_BURST": os.environ.get("IAM_BURST", "10"),
        "IAM_MAX_ATTEMPTS": os.environ.get("IAM_MAX_ATTEMPTS", "8"),
        "BATCH_SIZE": os.environ.get("BATCH_SIZE", "50"),
        "IAM_PAGE_SIZE": os.environ.get("IAM_PAGE_SIZE", "1000"),
        "MAX_CONCURRENCY": os.environ.get("MAX_CONCURRENCY", "4"),
        "AWS_LAMBDA_LOG_LEVEL": os.environ.get("AWS_LAMBDA_LOG_LEVEL", "info"),
    }


def dummy_zip():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("bootstrap", "served by cargo lambda watch through the emulator's Lambda bridge\n")
    return buf.getvalue()


def create_resources(endpoint):
    import boto3

    kw = dict(endpoint_url=endpoint, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
    iam, s3, lam, sfn = (boto3.client(s, **kw) for s in ("iam", "s3", "lambda", "stepfunctions"))
    s3.create_bucket(Bucket=BUCKET)
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}]}
    reader = iam.create_role(RoleName=READER_ROLE, Path="/iam-last-accessed/", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(RoleName=READER_ROLE, PolicyName="read-access-advisor", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Resource": "*", "Action": [
            "iam:GenerateServiceLastAccessedDetails", "iam:GetServiceLastAccessedDetails",
            "iam:GetServiceLastAccessedDetailsWithEntities", "iam:ListPoliciesGrantingServiceAccess",
            "iam:ListUsers", "iam:ListRoles", "iam:ListGroups", "iam:ListPolicies",
            "iam:ListUserTags", "iam:ListRoleTags", "iam:ListPolicyTags"]}]}))
    exec_role = iam.create_role(RoleName="iam-last-accessed-exec", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]}, "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    code = dummy_zip()
    arns = {}
    for name in FUNCTIONS:
        fn = lam.create_function(FunctionName=name, Runtime="provided.al2023", Role=exec_role, Handler="bootstrap",
                                 Code={"ZipFile": code}, Architectures=["arm64"], Timeout=900)
        arns[f"{name.capitalize()}FunctionArn"] = fn["FunctionArn"]
    definition = open(ASL).read()
    for key, value in arns.items():
        definition = definition.replace("${%s}" % key, value)
    if "${" in definition:
        sys.exit("statemachine: unsubstituted placeholder left in the ASL")
    machine = sfn.create_state_machine(name=STATE_MACHINE, definition=definition, roleArn=exec_role, type="STANDARD")["stateMachineArn"]
    return reader, machine


def port_free(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def up():
    os.makedirs(LOCAL, exist_ok=True)
    for name in PROCESSES:
        stop(name)
    port, lport = emulator_port(), lambda_port()
    for p, var in ((port, "EMULATOR_PORT"), (lport, "LAMBDA_PORT")):
        if not port_free(p):
            sys.exit(f"port {p} is in use by another process: stop it, or set {var} (and LOCAL_DIR) for a second stack")
    endpoint = f"http://127.0.0.1:{port}"
    env = dict(os.environ, EMULATOR_PORT=str(port), LAMBDA_BRIDGE_URL=f"http://127.0.0.1:{lport}")
    try:
        log(f"starting the emulator on {endpoint}")
        emulator = start("emulator", [os.path.join(VENV_BIN, "python"), "tests/emulator/server.py", "--host", "127.0.0.1", "--port", str(port)], env)
        wait_port(port, emulator, "emulator", 60)
        reader, machine = create_resources(endpoint)
        with open(os.path.join(LOCAL, "lambda.env"), "w") as f:
            for k, v in lambda_env(endpoint, reader).items():
                f.write(f"{k}={v}\n")
        log(f"starting cargo lambda watch on 127.0.0.1:{lport}")
        watch_env = dict(os.environ, PATH=f"{VENV_BIN}:{os.environ.get('PATH', '')}")
        watch = start("watch", [os.path.join(VENV_BIN, "cargo-lambda"), "lambda", "watch", "--invoke-address", "127.0.0.1",
                                "--invoke-port", str(lport), "--ignore-changes", "--concurrency", os.environ.get("LAMBDA_CONCURRENCY", "4"),
                                "--env-file", os.path.join(LOCAL, "lambda.env")], watch_env)
        wait_port(lport, watch, "watch", 600)
        exports = {
            "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION, "S3_FORCE_PATH_STYLE": "true",
            "EMULATOR_URL": endpoint, "LAMBDA_URL": f"http://127.0.0.1:{lport}",
            "STATE_MACHINE_ARN": machine, "IAM_PAGE_SIZE": os.environ.get("IAM_PAGE_SIZE", "1000"), "REPORT_BUCKET": BUCKET, "READER_ROLE_ARN": reader, "ACCOUNT_ID": ACCOUNT,
        }
        with open(os.path.join(LOCAL, "env"), "w") as f:
            for k, v in exports.items():
                f.write(f"export {k}={v}\n")
        log(f"up: state machine {machine}, bucket {BUCKET}; source .local/env")
    except BaseException:
        log("up failed: stopping what it started")
        for name in PROCESSES:
            stop(name)
        raise


def down():
    for name in PROCESSES:
        stop(name)
    for leftover in ("env", "lambda.env"):
        path = os.path.join(LOCAL, leftover)
        if os.path.exists(path):
            os.remove(path)
    log("down")


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "up":
        up()
    elif command == "down":
        down()
    else:
        sys.exit("usage: stack.py up|down")
