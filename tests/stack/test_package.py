"""The bundle `make package` ships (dist/iam-last-accessed-<version>.zip): what a user
deploys with the AWS CLI alone. Built here by infra/package.py, as `make package` runs it,
from the test build's binaries (target/debug, x86_64, so --architecture x86_64, as `make
package ARCH=x86_64`; moto stores a function's code and never runs it), then checked as a user would meet it: its files, its
template through cfn-lint (as infra/lint.sh), its deploy.sh through shellcheck and --help,
and its packaged template created as a stack on an emulator of its own, with the artifacts
uploaded to a bucket of the user's as deploy.sh uploads them and the SAM transform run as
tests/local/stack.py runs it (CloudFormation runs it server-side; moto does not).

PACKAGE_BINARIES=target/lambda runs the same checks on what `make package ARCH=x86_64`
built (cargo lambda's release binaries) instead of the test build's.

Needs the port EMULATOR_PORT_COPIES (5300) free."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
import tomllib
import zipfile

import boto3
import pytest

from conftest import ROOT

sys.path.insert(0, os.path.join(ROOT, "tests", "local"))
import stack as local_stack  # noqa: E402  (tests/local/stack.py: the template loader and the SAM transform)

PYTHON = os.path.join(ROOT, ".venv", "bin", "python")
SAM_PYTHON = os.path.join(ROOT, ".venv-sam", "bin", "python")
# The x86_64 binaries bundled: the test build's, or cargo lambda's (DIR/<binary>/bootstrap).
BINARIES = os.environ.get("PACKAGE_BINARIES", "target/debug")


def binary_path(binary: str) -> str:
    nested = os.path.join(ROOT, BINARIES, binary, "bootstrap")
    return nested if os.path.isfile(nested) else os.path.join(ROOT, BINARIES, binary)
EMULATOR_PORT = int(os.environ.get("EMULATOR_PORT_COPIES", "5300"))
USER_BUCKET = "my-deploy-artifacts"
PREFIX = "iam-last-accessed/test"


def version() -> str:
    with open(os.path.join(ROOT, "Cargo.toml"), "rb") as f:
        return tomllib.load(f)["workspace"]["package"]["version"]


def functions() -> dict[str, str]:
    """Logical id -> binary of each function of infra/template.yaml."""
    template = local_stack.load_template(os.path.join(ROOT, "infra", "template.yaml"))
    return {logical: os.path.basename(r["Properties"]["CodeUri"]) for logical, r in template["Resources"].items()
            if r["Type"] == "AWS::Serverless::Function"}


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> dict:
    """{"zip": path, "files": {name under the top folder: (bytes, mode)}, "dir": unpacked folder}."""
    out = tmp_path_factory.mktemp("dist")
    made = subprocess.run([SAM_PYTHON, "infra/package.py", "bundle", "--binaries", BINARIES, "--architecture", "x86_64",
                           "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, made.stdout + made.stderr
    path = out / f"iam-last-accessed-{version()}-x86_64.zip"
    assert made.stdout.strip().endswith(path.name), made.stdout
    files = {}
    unpacked = tmp_path_factory.mktemp("bundle")
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            top, _, name = info.filename.partition("/")
            assert top == f"iam-last-accessed-{version()}", info.filename
            files[name] = (z.read(info), stat.S_IMODE(info.external_attr >> 16))
            target = unpacked / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(files[name][0])
            target.chmod(files[name][1])  # what unzip does
    return {"zip": path, "files": files, "dir": unpacked}


def artifact(bundle: dict, location: dict) -> bytes:
    """The artifact a packaged {Bucket, Key} points at (Key is ${ArtifactPrefix}/<file>)."""
    assert location["Bucket"] == {"Ref": "ArtifactBucket"}, location
    key = location["Key"]["Fn::Sub"]
    assert key.startswith("${ArtifactPrefix}/"), key
    return bundle["files"]["artifacts/" + key.removeprefix("${ArtifactPrefix}/")][0]


def test_the_bundle_holds_the_packaged_template_each_function_and_the_definition(bundle):
    files = bundle["files"]
    template = json.loads(files["template.json"][0])
    assert files["deploy.sh"][1] == 0o755
    with open(os.path.join(ROOT, "infra", "member-role.yaml"), "rb") as f:
        assert files["member-role.yaml"][0] == f.read()
    assert f"Version {version()}." in template["Description"]
    assert template["Metadata"]["AWS::ServerlessRepo::Application"]["SemanticVersion"] == version()
    assert template["Transform"] == "AWS::Serverless-2016-10-31"
    assert template["Globals"]["Function"]["Architectures"] == ["x86_64"], "--architecture x86_64"
    used = set()
    for logical, binary in functions().items():
        code = template["Resources"][logical]["Properties"]["CodeUri"]
        with zipfile.ZipFile(io.BytesIO(artifact(bundle, code))) as z:
            [entry] = z.infolist()
            assert entry.filename == "bootstrap"
            assert stat.S_IMODE(entry.external_attr >> 16) == 0o755, "Lambda runs bootstrap: it must be executable"
            with open(binary_path(binary), "rb") as f:
                assert z.read(entry) == f.read(), f"{logical}'s zip is not {binary_path(binary)}"
        used.add(code["Key"]["Fn::Sub"])
    definition = template["Resources"]["StateMachine"]["Properties"]["DefinitionUri"]
    with open(os.path.join(ROOT, "statemachine", "last-accessed.asl.json"), "rb") as f:
        assert artifact(bundle, definition) == f.read()
    used.add(definition["Key"]["Fn::Sub"])
    assert {"artifacts/" + k.removeprefix("${ArtifactPrefix}/") for k in used} == \
        {n for n in files if n.startswith("artifacts/")}, "every artifact is used, and only those"


def test_a_binary_not_built_for_the_templates_architecture_is_refused_by_name(tmp_path):
    """Without --architecture the functions are the template's arm64: the x86_64 dev build is refused."""
    made = subprocess.run([SAM_PYTHON, "infra/package.py", "bundle", "--binaries", BINARIES, "--out", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert made.returncode == 1, made.stdout + made.stderr
    assert f"{BINARIES}/" in made.stderr and "is built for x86_64, the functions are arm64" in made.stderr, made.stderr
    assert not list(tmp_path.iterdir()), "no bundle"


def test_the_packaged_template_passes_cfn_lint(bundle):
    linted = subprocess.run([os.path.join(ROOT, ".venv-sam", "bin", "cfn-lint"), "--", str(bundle["dir"] / "template.json")],
                            cwd=ROOT, capture_output=True, text=True, timeout=300,
                            env=dict(os.environ, AWS_DEFAULT_REGION="us-east-1"))
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_deploy_sh_passes_shellcheck_and_explains_every_parameter(bundle):
    script = str(bundle["dir"] / "deploy.sh")
    checked = subprocess.run([os.path.join(ROOT, ".venv", "bin", "shellcheck"), script], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    shown = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=30)
    assert shown.returncode == 0, shown.stderr
    template = json.loads(bundle["files"]["template.json"][0])
    for name, spec in template["Parameters"].items():
        if name not in ("ArtifactBucket", "ArtifactPrefix"):  # deploy.sh's own --bucket / --prefix
            assert f"  {name} (" in shown.stdout, f"--help does not explain {name}"
    assert "@" not in shown.stdout.replace("me@example.com", ""), "a marker was left unfilled"
    refused = subprocess.run([script], capture_output=True, text=True, timeout=30)
    assert refused.returncode == 2 and "--bucket is required" in refused.stderr, refused


@contextlib.contextmanager
def emulator():
    """server.py --enforce-iam on EMULATOR_PORT_COPIES until the block ends; yields its URL."""
    with socket.socket() as s:
        if s.connect_ex(("127.0.0.1", EMULATOR_PORT)) == 0:
            pytest.fail(f"port {EMULATOR_PORT} is in use: set EMULATOR_PORT_COPIES")
    env = {k: v for k, v in os.environ.items() if k not in ("LAMBDA_BRIDGE_URL", "EMULATOR_ENFORCE_IAM")}
    proc = subprocess.Popen([PYTHON, "tests/emulator/server.py", "--host", "127.0.0.1", "--port", str(EMULATOR_PORT),
                             "--enforce-iam"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 60
        while True:
            assert proc.poll() is None, f"the emulator exited with {proc.returncode}"
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", EMULATOR_PORT)) == 0:
                    break
            assert time.time() < deadline, "the emulator did not listen within 60 s"
            time.sleep(0.2)
        yield f"http://127.0.0.1:{EMULATOR_PORT}"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def create(cfn, s3, name: str, bundle: dict, prefix: str) -> dict:
    """What `aws cloudformation deploy --s3-bucket` does with template.json after deploy.sh's
    uploads (the SAM transform run here, as tests/local/stack.py runs it); the settled stack."""
    template = json.loads(bundle["files"]["template.json"][0])
    body = json.dumps(local_stack.translate(template), separators=(",", ":"))
    s3.put_object(Bucket=USER_BUCKET, Key=f"{prefix}/{name}.template", Body=body.encode())
    parameters = {"ArtifactBucket": USER_BUCKET, "ArtifactPrefix": prefix}
    cfn.create_stack(StackName=name, TemplateURL=f"https://{USER_BUCKET}.s3.amazonaws.com/{prefix}/{name}.template",
                     Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
                     Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"])
    return local_stack.settled(cfn, name, seconds=300, poll=0.5)


def failures(cfn, name: str) -> list[str]:
    return [f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason')}"
            for e in cfn.describe_stack_events(StackName=name)["StackEvents"] if "FAILED" in e["ResourceStatus"]]


def test_the_packaged_template_creates_a_stack_from_the_users_bucket(bundle):
    with emulator() as url:
        kw = dict(endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
        s3, cfn, lam, sfn = (boto3.client(s, **kw) for s in ("s3", "cloudformation", "lambda", "stepfunctions"))
        s3.create_bucket(Bucket=USER_BUCKET)
        for name, (body, _) in bundle["files"].items():  # deploy.sh: aws s3 cp artifacts/* s3://BUCKET/PREFIX/
            if name.startswith("artifacts/"):
                s3.put_object(Bucket=USER_BUCKET, Key=f"{PREFIX}/{name.removeprefix('artifacts/')}", Body=body)

        stack = create(cfn, s3, "iam-last-accessed", bundle, PREFIX)
        assert stack["StackStatus"] == "CREATE_COMPLETE", failures(cfn, "iam-last-accessed")

        template = json.loads(bundle["files"]["template.json"][0])
        physical = {r["LogicalResourceId"]: r["PhysicalResourceId"]
                    for r in cfn.describe_stack_resources(StackName="iam-last-accessed")["StackResources"]}
        arns = []
        for logical in functions():
            code = artifact(bundle, template["Resources"][logical]["Properties"]["CodeUri"])
            conf = lam.get_function(FunctionName=physical[logical])["Configuration"]
            assert conf["CodeSha256"] == base64.b64encode(hashlib.sha256(code).digest()).decode(), \
                f"{logical} does not run the bundle's zip"
            assert (conf["Runtime"], conf["Handler"], conf["Architectures"]) == ("provided.al2023", "bootstrap", ["x86_64"])
            arns.append(conf["FunctionArn"])
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
        definition = sfn.describe_state_machine(stateMachineArn=outputs["StateMachineArn"])["definition"]
        assert "${" not in definition, "every DefinitionSubstitution filled"
        for arn in arns:
            assert arn in definition, f"the state machine does not call {arn}"
        assert s3.head_bucket(Bucket=outputs["ReportBucketName"])
        # The artifacts exist only under the user's bucket and prefix, where deploy.sh put them:
        # the CodeSha256 of each function and the definition came from there.


@pytest.mark.parametrize("target", ["deploy", "sam-build", "package"])
def test_deploying_installs_no_test_tool(target):
    """What the deploy-side targets would run (make -n) installs nothing only the tests need:
    no apt-get, no chromium, no checkov, no npm."""
    planned = subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert planned.returncode == 0, planned.stderr
    assert "cargo lambda build --release --arm64" in planned.stdout or "sam build" in planned.stdout, planned.stdout
    for tool in ("apt-get", "chromium", "checkov", "npm ", "tests/requirements.txt"):
        assert tool not in planned.stdout, f"make -n {target} runs {tool}:\n{planned.stdout}"
