"""make bench-scale: Summarize (and its pages) at 100,000 and 1,000,000 principals, no IAM.

    python tests/local/bench_scale.py [--sizes 100000:100,1000000:1000] [--profile release]

For each size N:A, a plain moto server (S3 only, in memory: the bucket's objects are held
by that process, not ours) gets synthetic work files of page_bench's mix from
`scale_bench seed` (N principals over A accounts, 500 a batch), then `scale_bench
summarize` runs the real Summarize handler once in a fresh process, and this prints:

    summarize_peak_rss_mb_N: the Summarize process's VmHWM, MB (MemorySize is 1024)
    summarize_s_N:           its wall time, s (Timeout is 900); moto's S3 is slower than S3
    largest_page_bytes_N:    the largest of the run's pages (overview and account pages)

Ports: SCALE_PORT (5400). Release profile by default (what Lambda runs); `--profile dev`
reuses the test build.
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUCKET = "scale-bench"


def wait_port(port, proc, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"moto server exited: {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"moto server did not listen on {port}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="100000:100,1000000:1000")
    ap.add_argument("--profile", default="release", choices=["release", "dev"])
    args = ap.parse_args()
    sizes = [tuple(int(x) for x in s.split(":")) for s in args.sizes.split(",")]
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    build = ["cargo", "build", "-q", "-p", "last-accessed", "--example", "scale_bench"]
    if args.profile == "release":
        build.append("--release")
    subprocess.run(build, check=True, cwd=ROOT)
    binary = os.path.join(target, "release" if args.profile == "release" else "debug", "examples", "scale_bench")

    port = int(os.environ.get("SCALE_PORT", "5400"))
    moto = os.path.join(os.path.dirname(sys.executable), "moto_server")
    log = open(os.path.join(ROOT, ".local", "bench-scale-moto.log"), "w") if os.path.isdir(os.path.join(ROOT, ".local")) else subprocess.DEVNULL
    server = subprocess.Popen([moto, "-p", str(port)], stdout=log, stderr=log, start_new_session=True)
    env = dict(os.environ, REPORT_BUCKET=BUCKET, AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}",
               S3_FORCE_PATH_STYLE="true", AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
               AWS_REGION="us-east-1", AWS_DEFAULT_REGION="us-east-1", RUST_LOG="warn")
    env.pop("AWS_PROFILE", None)
    try:
        wait_port(port, server)
        import boto3
        s3 = boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"], region_name="us-east-1",
                          aws_access_key_id="bench", aws_secret_access_key="bench")
        print(f"# bench-scale: Summarize over synthetic work files (page_bench's mix, 500 a batch), "
              f"{args.profile} profile, S3 = moto server (in memory) on :{port}")
        for n, accounts in sizes:
            import urllib.request
            urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/moto-api/reset", method="POST"))
            s3.create_bucket(Bucket=BUCKET)
            run = f"scale-{n}"
            t = time.time()
            subprocess.run([binary, "seed", "--principals", str(n), "--accounts", str(accounts), "--run", run],
                           env=env, check=True, stderr=subprocess.DEVNULL)
            seeded = time.time() - t
            out = subprocess.run([binary, "summarize", "--run", run], env=env, check=True,
                                 capture_output=True, text=True).stdout.split()
            found = dict(zip(out[::2], out[1::2]))
            print(f"# {n} principals in {accounts} accounts (seeded in {seeded:.0f} s)")
            print(f"summarize_peak_rss_mb_{n}: {found.get('peak_rss_mb', 'n/a')}")
            print(f"summarize_s_{n}: {found.get('summarize_s', 'n/a')}")
            print(f"largest_page_bytes_{n}: {found.get('largest_page_bytes', 'n/a')}")
            sys.stdout.flush()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
