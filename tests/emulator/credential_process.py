#!/usr/bin/env python3
"""credential_process for an AWS profile: credentials of a deployed Lambda function.

    credential_process = python tests/emulator/credential_process.py <function name or ARN>

POSTs {"function": ...} to $EMULATOR_URL (else $AWS_ENDPOINT_URL, else
http://127.0.0.1:5000) /moto-api/iam-access-advisor/lambda-credentials and prints the
answer: {"Version": 1, "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"},
the credentials of an STS session of the function's execution role (AWS CLI/SDK
"Sourcing credentials with an external process").  Exit code 1 with the emulator's
error on stderr when the function is unknown or its role does not trust Lambda.
Standard library only.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request


def main(argv: list[str]) -> int:
    if len(argv) != 2 or not argv[1]:
        print("usage: credential_process.py <function name or ARN>", file=sys.stderr)
        return 2
    base = (os.environ.get("EMULATOR_URL") or os.environ.get("AWS_ENDPOINT_URL")
            or "http://127.0.0.1:5000").rstrip("/")
    req = urllib.request.Request(
        f"{base}/moto-api/iam-access-advisor/lambda-credentials",
        data=json.dumps({"function": argv[1]}).encode(),
        headers={"Content-Type": "application/json"}, method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            body = json.loads(resp.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        print(f"lambda-credentials {argv[1]}: HTTP {exc.code}: {exc.read().decode('utf-8', 'replace')}",
              file=sys.stderr)
        return 1
    except (urllib.error.URLError, OSError, ValueError) as exc:
        print(f"lambda-credentials {argv[1]}: {exc}", file=sys.stderr)
        return 1
    json.dump(body, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
