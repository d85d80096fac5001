#!/usr/bin/env python
"""Start moto's server (foreground) with the IAM access-advisor extension.

    python tests/emulator/server.py [--host 127.0.0.1] [--port 5000] [--enforce-iam]

The port defaults to $EMULATOR_PORT, else 5000.  --enforce-iam (or env
EMULATOR_ENFORCE_IAM=1) makes every request need a valid SigV4 signature of known
credentials and an allowing identity policy (access_advisor/authz.py); the
administrator key testing/testing keeps working.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", "-H", default="127.0.0.1")
    parser.add_argument("--port", "-p", type=int,
                        default=int(os.environ.get("EMULATOR_PORT") or 5000))
    parser.add_argument("--enforce-iam", action="store_true",
                        help="authenticate (SigV4) and authorize (identity policies) every "
                             "request; also env EMULATOR_ENFORCE_IAM=1")
    args = parser.parse_args(argv)

    # moto's Step Functions engine calls Lambda at localhost:$MOTO_PORT
    os.environ["MOTO_PORT"] = str(args.port)
    # AWS managed policies (arn:aws:iam::aws:policy/...) in every account, as moto ships
    # them; MOTO_IAM_LOAD_MANAGED_POLICIES=false leaves them out (README)
    os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")

    import access_advisor

    access_advisor.install()

    from access_advisor import authz

    enforce = args.enforce_iam or authz.env_enabled()
    if enforce:
        authz.enable()

    from moto import backends as moto_backends
    from moto.moto_api._internal.models import moto_api_backend
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    moto_api_backend.set_config(MOTO_CONFIG)
    # moto's dispatcher lists its own package folder (a stat of each of its ~170 service
    # folders) for every request, under the lock every request takes: a sixth of the
    # server's CPU in a scan. The folder does not change while the server runs.
    modules = tuple(moto_backends.list_of_moto_modules())
    moto_backends.list_of_moto_modules = lambda: modules

    app = DomainDispatcherApplication(create_backend_app)
    server = make_server(args.host, args.port, app, threaded=True,
                         request_handler=MotoRequestHandler)
    server.daemon_threads = True

    def stop(signum: int, frame: object) -> None:
        # shutdown() blocks until serve_forever returns: call it off-thread
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    host, port = server.server_address[:2]
    if enforce:
        print("IAM enforcement on: SigV4 + identity policies; administrator key testing/testing "
              f"(user {authz.ADMIN_USER})", flush=True)
    print(f"emulator ready on http://{host}:{port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()
    print("emulator stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
