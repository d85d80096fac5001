#!/usr/bin/env python3
"""Bundles iam-last-accessed for a deploy with the AWS CLI alone (no Rust, no SAM CLI).

    python infra/package.py bundle --binaries target/lambda [--architecture arm64|x86_64] [--out dist] [--template infra/template.yaml]
    python infra/package.py version

`bundle` takes already-built `bootstrap` binaries (`make package` builds them first with
`cargo lambda build --release --arm64`; they are found as DIR/<binary>/bootstrap, cargo
lambda's layout, or DIR/<binary>) and writes dist/iam-last-accessed-<version>.zip:

    iam-last-accessed-<version>/
      template.json      the packaged template: each function's CodeUri and the state
                         machine's DefinitionUri point at s3://${ArtifactBucket}/${ArtifactPrefix}/...
      artifacts/         one zip per function (its bootstrap, mode 755) and the ASL,
                         named by content hash, so an update replaces exactly what changed
      member-role.yaml   the member-account role (StackSets), plain CloudFormation
      deploy.sh          uploads artifacts/ to your bucket and runs aws cloudformation deploy
      DEPLOY.md          docs/deploy.md

The template keeps its SAM transform (CloudFormation runs it at deploy time, hence
CAPABILITY_AUTO_EXPAND). The version is the workspace's (Cargo.toml [workspace.package]);
`version` prints it. Each binary must be built for the functions' architecture (ELF
machine checked): the template's arm64, or --architecture x86_64 (make package ARCH=x86_64),
which sets the packaged template's functions to x86_64 and names the bundle
iam-last-accessed-<version>-x86_64.zip. Needs PyYAML (.venv-sam).
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import io
import json
import os
import re
import stat
import sys
import textwrap
import tomllib
import zipfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
NAME = "iam-last-accessed"
# Every entry of every zip gets this time: the same inputs make the same bytes.
EPOCH = (2020, 1, 1, 0, 0, 0)
# ELF e_machine of each Lambda architecture.
ELF_MACHINES = {"x86_64": 62, "arm64": 183}
ARTIFACT_PARAMETERS = {
    "ArtifactBucket": {
        "Type": "String",
        "AllowedPattern": "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
        "ConstraintDescription": "an S3 bucket name",
        "Description": "Bucket deploy.sh uploaded artifacts/ to (in the stack's Region): the functions' code and the state machine's definition.",
    },
    "ArtifactPrefix": {
        "Type": "String",
        "Default": NAME,
        "AllowedPattern": "^[0-9A-Za-z!_.*'()-]+(/[0-9A-Za-z!_.*'()-]+)*$",
        "ConstraintDescription": "an S3 key prefix without leading or trailing /",
        "Description": "Key prefix of the artifacts in ArtifactBucket (ArtifactPrefix/<artifact>).",
    },
}


class BundleError(Exception):
    """A bundle that cannot be made, with what to do about it."""


def workspace_version(cargo_toml: str = os.path.join(ROOT, "Cargo.toml")) -> str:
    with open(cargo_toml, "rb") as f:
        manifest = tomllib.load(f)
    try:
        return manifest["workspace"]["package"]["version"]
    except KeyError:
        raise BundleError(f"{cargo_toml} has no [workspace.package] version") from None


def load_template(path: str) -> dict:
    """A CloudFormation YAML (or JSON) template with its short-form intrinsics (!Ref, !Sub,
    ...) in their long forms, as CloudFormation reads it."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def intrinsic(loader, suffix, node):
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        if suffix in ("Ref", "Condition"):
            return {suffix: value}
        if suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
        return {f"Fn::{suffix}": value}

    Loader.add_multi_constructor("!", intrinsic)
    with open(path) as f:
        return yaml.load(f, Loader=Loader)


def find_bootstrap(binaries: str, binary: str) -> str:
    for candidate in (os.path.join(binaries, binary, "bootstrap"), os.path.join(binaries, binary)):
        if os.path.isfile(candidate):
            return candidate
    raise BundleError(f"no bootstrap for {binary}: neither {binaries}/{binary}/bootstrap nor {binaries}/{binary} "
                      f"(build them first: cargo lambda build --release --arm64, or make package [ARCH=x86_64])")


def check_architecture(path: str, body: bytes, architecture: str) -> None:
    if body[:4] != b"\x7fELF" or len(body) < 20:
        raise BundleError(f"{path} is not an ELF executable")
    order = "little" if body[5] == 1 else "big"
    machine = int.from_bytes(body[18:20], order)
    if machine != ELF_MACHINES.get(architecture):
        found = next((a for a, m in ELF_MACHINES.items() if m == machine), f"ELF machine {machine}")
        flag = architecture.replace("_", "-")
        raise BundleError(f"{path} is built for {found}, the functions are {architecture} "
                          f"(cargo lambda build --release --{flag} builds them; make package ARCH={found} "
                          f"bundles {found} binaries)")


def function_zip(bootstrap: bytes) -> bytes:
    """Lambda's deployment package for provided.al2023: `bootstrap` at the root, executable."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        info = zipfile.ZipInfo("bootstrap", date_time=EPOCH)
        info.external_attr = (stat.S_IFREG | 0o755) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(info, bootstrap)
    return buf.getvalue()


def content_name(stem: str, suffix: str, body: bytes) -> str:
    return f"{stem}-{hashlib.sha256(body).hexdigest()[:16]}{suffix}"


def artifact_location(name: str) -> dict:
    return {"Bucket": {"Ref": "ArtifactBucket"}, "Key": {"Fn::Sub": "${ArtifactPrefix}/" + name}}


def packaged(template: dict, template_path: str, binaries: str, version: str,
             architecture: str | None = None) -> tuple[dict, dict[str, bytes]]:
    """The packaged template and its artifacts ({file name: bytes}); `architecture`: the
    functions' instead of the template's."""
    template = copy.deepcopy(template)
    resources = template.get("Resources") or {}
    if architecture:
        template.setdefault("Globals", {}).setdefault("Function", {})["Architectures"] = [architecture]
        for resource in resources.values():
            props = resource.get("Properties") or {}
            if resource.get("Type") == "AWS::Serverless::Function" and "Architectures" in props:
                props["Architectures"] = [architecture]
    parameters = template.setdefault("Parameters", {})
    clash = sorted(set(ARTIFACT_PARAMETERS) & set(parameters))
    if clash:
        raise BundleError(f"the template already declares {', '.join(clash)}")
    parameters.update(copy.deepcopy(ARTIFACT_PARAMETERS))
    function_globals = (template.get("Globals") or {}).get("Function") or {}
    artifacts: dict[str, bytes] = {}
    for logical_id, resource in resources.items():
        props = resource.get("Properties") or {}
        if resource.get("Type") == "AWS::Serverless::Function":
            code_uri = props.get("CodeUri", function_globals.get("CodeUri"))
            if not isinstance(code_uri, str) or code_uri.startswith("s3://"):
                raise BundleError(f"{logical_id}: CodeUri must be the function's source folder (got {code_uri!r})")
            build = (resource.get("Metadata") or {}).get("BuildProperties") or {}
            binary = build.get("Binary") or os.path.basename(os.path.normpath(code_uri))
            path = find_bootstrap(binaries, binary)
            with open(path, "rb") as f:
                body = f.read()
            [architecture] = props.get("Architectures", function_globals.get("Architectures", ["x86_64"]))
            check_architecture(path, body, architecture)
            archive = function_zip(body)
            name = content_name(binary, ".zip", archive)
            artifacts[name] = archive
            props["CodeUri"] = artifact_location(name)
        elif resource.get("Type") == "AWS::Serverless::StateMachine" and isinstance(props.get("DefinitionUri"), str):
            source = os.path.normpath(os.path.join(os.path.dirname(template_path), props["DefinitionUri"]))
            with open(source, "rb") as f:
                body = f.read()
            stem, suffix = os.path.basename(source).split(".", 1)
            name = content_name(stem, "." + suffix, body)
            artifacts[name] = body
            props["DefinitionUri"] = artifact_location(name)
    if not artifacts:
        raise BundleError(f"{template_path} has no function or state machine to package")
    describe(template, version)
    return template, artifacts


def describe(template: dict, version: str) -> None:
    """The version in the stack's description and the SAR metadata; the artifact parameters in
    the console's parameter groups; no local-file references left (they are not in the bundle)."""
    template["Description"] = f"{template.get('Description', NAME).rstrip()} Version {version}."
    metadata = template.setdefault("Metadata", {})
    app = metadata.get("AWS::ServerlessRepo::Application")
    if isinstance(app, dict):
        app["SemanticVersion"] = version
        for local in ("ReadmeUrl", "LicenseUrl"):
            if isinstance(app.get(local), str) and not app[local].startswith("s3://"):
                del app[local]
    interface = metadata.get("AWS::CloudFormation::Interface")
    if isinstance(interface, dict):
        interface.setdefault("ParameterGroups", []).append(
            {"Label": {"default": "Artifacts (deploy.sh sets these)"}, "Parameters": list(ARTIFACT_PARAMETERS)})


def parameter_help(template: dict) -> str:
    """deploy.sh's list of the stack's parameters: name, default, what it means."""
    lines = []
    for name, spec in (template.get("Parameters") or {}).items():
        if name in ARTIFACT_PARAMETERS:
            continue
        default = spec.get("Default")
        shown = "required" if default is None else "default: " + (str(default) or "empty")
        lines.append(f"  {name} ({shown})")
        lines.extend(textwrap.wrap(" ".join(str(spec.get("Description", "")).split()), width=88,
                                   initial_indent="      ", subsequent_indent="      "))
    return "\n".join(lines)


def deploy_script(template: dict, version: str) -> str:
    with open(os.path.join(ROOT, "infra", "deploy.sh")) as f:
        script = f.read()
    for marker, value in (("@PARAMETERS@", parameter_help(template)), ("@VERSION@", version)):
        if marker not in script:
            raise BundleError(f"infra/deploy.sh has no {marker}")
        script = script.replace(marker, value)
    return script


def write_bundle(out_dir: str, version: str, template: dict, artifacts: dict[str, bytes],
                 suffix: str = "") -> str:
    top = f"{NAME}-{version}"
    files: dict[str, tuple[bytes, int]] = {
        "template.json": (json.dumps(template, indent=1).encode() + b"\n", 0o644),
        "deploy.sh": (deploy_script(template, version).encode(), 0o755),
    }
    for name, source in (("member-role.yaml", "infra/member-role.yaml"), ("DEPLOY.md", "docs/deploy.md")):
        with open(os.path.join(ROOT, source), "rb") as f:
            files[name] = (f.read(), 0o644)
    for name, body in artifacts.items():
        files[f"artifacts/{name}"] = (body, 0o644)
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, f"{top}{suffix}.zip")
    with zipfile.ZipFile(path + ".part", "w", zipfile.ZIP_DEFLATED) as z:
        for name in sorted(files):
            body, mode = files[name]
            info = zipfile.ZipInfo(f"{top}/{name}", date_time=EPOCH)
            info.external_attr = (stat.S_IFREG | mode) << 16
            # The function zips are compressed already: stored, not deflated again.
            info.compress_type = zipfile.ZIP_STORED if name.endswith(".zip") else zipfile.ZIP_DEFLATED
            z.writestr(info, body)
    os.replace(path + ".part", path)
    return path


def bundle(args: argparse.Namespace) -> str:
    version = workspace_version()
    if not re.fullmatch(r"\d+\.\d+\.\d+", version):
        raise BundleError(f"version {version!r} is not MAJOR.MINOR.PATCH (the Serverless Application Repository wants one)")
    template_path = os.path.abspath(args.template)
    source = load_template(template_path)
    declared = ((source.get("Globals") or {}).get("Function") or {}).get("Architectures", ["x86_64"])
    other = args.architecture if args.architecture and [args.architecture] != declared else None
    template, artifacts = packaged(source, template_path, args.binaries, version, other)
    return write_bundle(args.out, version, template, artifacts, f"-{other}" if other else "")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="bundle iam-last-accessed for a deploy with the AWS CLI alone")
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("bundle", help="write dist/iam-last-accessed-<version>.zip")
    make.add_argument("--binaries", required=True,
                      help="folder of the built binaries: DIR/<binary>/bootstrap (cargo lambda) or DIR/<binary>")
    make.add_argument("--template", default=os.path.join(ROOT, "infra", "template.yaml"))
    make.add_argument("--out", default=os.path.join(ROOT, "dist"))
    make.add_argument("--architecture", choices=sorted(ELF_MACHINES),
                      help="the functions' architecture, when not the template's (arm64)")
    sub.add_parser("version", help="print the version the bundle gets")
    args = parser.parse_args(argv)
    try:
        if args.command == "version":
            print(workspace_version())
        else:
            path = os.path.relpath(bundle(args))
            print(path if not path.startswith("..") else os.path.abspath(path))
    except (BundleError, OSError) as e:
        print(f"package.py: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
