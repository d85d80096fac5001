"""Opens the run's page in headless chromium and prints how long its first render took.

    python tests/browser/first_render.py PATH [--runs N]

Prints `html_first_render_s <seconds>`: navigation start to the first render completed,
as the page itself measured it (`window.ILA_FIRST_RENDER_MS`, which is
`performance.now()` when `document.body.dataset.ready` became "1"; performance.now()
counts from the navigation's start). With `--runs N`, the best of N fresh loads. Also
prints `html_first_render_wall_s` (the wall clock from the navigate command to ready,
as this script saw it) and fails on console errors.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cdp import Browser  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("path")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=120.0)
    args = ap.parse_args()
    url = Path(args.path).resolve().as_uri()
    page_ms, walls = [], []
    with Browser(timeout=args.timeout) as b:
        for _ in range(max(1, args.runs)):
            walls.append(b.open(url))
            page_ms.append(b.evaluate("window.ILA_FIRST_RENDER_MS"))
        b.pump(0.2)
        errors = list(b.errors)
    print(f"html_first_render_s {min(page_ms) / 1000:.3f}")
    print(f"html_first_render_wall_s {min(walls):.3f}")
    if errors:
        for e in errors:
            print(f"error {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
