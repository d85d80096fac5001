"""A small Chrome DevTools Protocol client for the page tests: headless Debian chromium.

    with Browser() as b:
        b.open("file:///tmp/page.html")       # waits for document.body.dataset.ready === "1"
        b.evaluate("document.title")          # -> the value
        b.screenshot("/tmp/page.png")
        assert not b.errors                   # console errors, exceptions, log errors

Needs `chromium` on PATH (Debian package `chromium`) and the `websocket-client` package.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import websocket  # websocket-client


class CdpError(RuntimeError):
    pass


def find_chromium() -> str | None:
    """The chromium binary: $CHROMIUM, else `chromium` (or a usual alias) on PATH."""
    env = os.environ.get("CHROMIUM")
    if env:
        return env
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Browser:
    """One headless chromium and one page (tab) of it, driven over CDP."""

    def __init__(self, binary: str | None = None, timeout: float = 60.0,
                 window: tuple[int, int] = (1400, 1000)):
        self.binary = binary or find_chromium()
        if not self.binary:
            raise CdpError("chromium not found on PATH (Debian: apt-get install chromium)")
        self.timeout = timeout
        self.window = window
        self.errors: list[str] = []
        self.events: list[dict] = []
        self._ids = itertools.count(1)
        self._proc: subprocess.Popen | None = None
        self._ws: websocket.WebSocket | None = None
        self._profile: str | None = None
        self._stderr = None

    # ---- lifecycle -------------------------------------------------------------------

    def start(self) -> "Browser":
        self._profile = tempfile.mkdtemp(prefix="ila-chromium-")
        self._stderr = tempfile.TemporaryFile()
        args = [
            self.binary,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--metrics-recording-only",
            "--mute-audio",
            "--hide-scrollbars",
            f"--window-size={self.window[0]},{self.window[1]}",
            "--remote-debugging-port=0",
            f"--user-data-dir={self._profile}",
            "about:blank",
        ]
        self._proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                      stderr=self._stderr)
        port = self._devtools_port()
        target = self._page_target(port)
        self._ws = websocket.create_connection(target, timeout=self.timeout,
                                               suppress_origin=True)
        for domain in ("Runtime", "Page", "Log"):
            self.send(f"{domain}.enable")
        return self

    def _devtools_port(self) -> int:
        """The port chromium chose: from <profile>/DevToolsActivePort, else its stderr."""
        active = Path(self._profile) / "DevToolsActivePort"
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise CdpError(f"chromium exited with {self._proc.returncode}: {self._stderr_text()}")
            if active.exists():
                first = active.read_text().splitlines()[:1]
                if first and first[0].strip().isdigit():
                    return int(first[0])
            for line in self._stderr_text().splitlines():
                if "DevTools listening on ws://" in line:
                    return int(line.split("ws://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])
            time.sleep(0.05)
        raise CdpError(f"chromium did not open its DevTools port: {self._stderr_text()}")

    def _stderr_text(self) -> str:
        if not self._stderr:
            return ""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def _page_target(self, port: int) -> str:
        import urllib.request

        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as r:
                    targets = json.load(r)
                pages = [t for t in targets if t.get("type") == "page"]
                if pages:
                    return pages[0]["webSocketDebuggerUrl"]
            except OSError:
                pass
            time.sleep(0.05)
        raise CdpError("chromium has no page target")

    def close(self) -> None:
        if self._ws is not None:
            try:
                self._ws.close()
            except Exception:
                pass
            self._ws = None
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.terminate()
                try:
                    self._proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait(timeout=10)
            self._proc = None
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        if self._profile:
            shutil.rmtree(self._profile, ignore_errors=True)
            self._profile = None

    def __enter__(self) -> "Browser":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- protocol --------------------------------------------------------------------

    def send(self, method: str, params: dict | None = None, timeout: float | None = None) -> dict:
        """Sends one command and waits for its answer; events meanwhile are recorded."""
        if self._ws is None:
            raise CdpError("not started")
        ident = next(self._ids)
        self._ws.send(json.dumps({"id": ident, "method": method, "params": params or {}}))
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            message = self._receive(deadline)
            if message.get("id") == ident:
                if "error" in message:
                    raise CdpError(f"{method}: {message['error']}")
                return message.get("result", {})

    def _receive(self, deadline: float) -> dict:
        left = deadline - time.monotonic()
        if left <= 0:
            raise CdpError("timed out waiting for chromium")
        self._ws.settimeout(left)
        try:
            message = json.loads(self._ws.recv())
        except websocket.WebSocketTimeoutException as e:
            raise CdpError("timed out waiting for chromium") from e
        if "method" in message:
            self._event(message)
        return message

    def _event(self, message: dict) -> None:
        method, params = message["method"], message.get("params", {})
        self.events.append(message)
        if method == "Runtime.consoleAPICalled" and params.get("type") == "error":
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            self.errors.append(f"console.error: {text}")
        elif method == "Runtime.exceptionThrown":
            d = params.get("exceptionDetails", {})
            text = d.get("exception", {}).get("description") or d.get("text", "")
            self.errors.append(f"exception: {text}")
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            e = params["entry"]
            self.errors.append(f"log {e.get('source')}: {e.get('text')} {e.get('url', '')}".strip())

    def pump(self, seconds: float = 0.1) -> None:
        """Reads the events that arrive within `seconds`."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                self._receive(deadline)
            except CdpError:
                return

    # ---- the page --------------------------------------------------------------------

    def evaluate(self, expression: str, await_promise: bool = False) -> Any:
        """The value of a JavaScript expression (by value: JSON-able results only)."""
        r = self.send("Runtime.evaluate", {
            "expression": expression,
            "returnByValue": True,
            "awaitPromise": await_promise,
        })
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            raise CdpError(f"evaluate: {d.get('exception', {}).get('description') or d.get('text')}")
        return r.get("result", {}).get("value")

    def open(self, url: str, ready: str = 'document.body && document.body.dataset.ready === "1"',
             timeout: float | None = None) -> float:
        """Navigates to `url` and waits until `ready` is true; gives the wall-clock seconds
        from the navigation command to ready."""
        if "://" not in url:
            url = Path(url).resolve().as_uri()
        # A new document has a new time origin: the old one being ready does not count.
        before = self.evaluate("performance.timeOrigin")
        started = time.monotonic()
        r = self.send("Page.navigate", {"url": url})
        if r.get("errorText"):
            raise CdpError(f"navigate {url}: {r['errorText']}")
        deadline = started + (timeout or self.timeout)
        while time.monotonic() < deadline:
            try:
                if self.evaluate(f"performance.timeOrigin !== {before!r} && !!({ready})"):
                    return time.monotonic() - started
            except CdpError as e:
                # The old document may go away under us while navigating.
                if "timed out" in str(e):
                    raise
            time.sleep(0.02)
        raise CdpError(f"{url} not ready after {timeout or self.timeout}s; errors: {self.errors}")

    def screenshot(self, path: str | os.PathLike, full_page: bool = False,
                   clip: tuple[float, float, float, float] | None = None) -> bytes:
        """Saves a PNG of the viewport (or the whole page, or `clip` = x, y, width, height
        in CSS pixels of the page) to `path`; gives its bytes."""
        params: dict = {"format": "png"}
        if full_page:
            params["captureBeyondViewport"] = True
        if clip:
            x, y, w, h = clip
            params["clip"] = {"x": x, "y": y, "width": w, "height": h, "scale": 1}
            params["captureBeyondViewport"] = True
        data = base64.b64decode(self.send("Page.captureScreenshot", params)["data"])
        Path(path).write_bytes(data)
        return data
