"""Environment that makes a local function process use its execution role's credentials.

The local stack calls ``config_file_env(function, local_dir, python)`` for each function
the local runtime API serves: the returned variables point the AWS SDK's default
credential chain at a profile whose ``credential_process`` asks the emulator for an STS
session of the function's role (credential_process.py → POST
/moto-api/iam-access-advisor/lambda-credentials).  The SDKs run the process again
before ``Expiration``, so a long-lived function process keeps valid credentials.
"""

from __future__ import annotations

import os
import re
from typing import Dict

HERE = os.path.dirname(os.path.abspath(__file__))
CREDENTIAL_PROCESS = os.path.join(HERE, "credential_process.py")


def _quote(arg: str) -> str:
    # the SDKs split credential_process on whitespace, honouring double quotes
    return f'"{arg}"' if re.search(r"\s", arg) else arg


def config_file_env(function_name: str, local_dir: str, python: str) -> Dict[str, str]:
    """Write ``<local_dir>/aws-config-<function>`` and return the variables that select it.

    Static keys must not be in the function's environment as well: AWS_ACCESS_KEY_ID /
    AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN come before profiles in the default chain
    (the caller removes them).
    """
    os.makedirs(local_dir, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", function_name)
    path = os.path.abspath(os.path.join(local_dir, f"aws-config-{safe}"))
    command = " ".join(_quote(a) for a in (python, CREDENTIAL_PROCESS, function_name))
    with open(path, "w") as f:
        f.write(f"[default]\ncredential_process = {command}\n")
    return {
        "AWS_CONFIG_FILE": path,
        "AWS_PROFILE": "default",
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
