"""Headless Chromium over the DevTools protocol: open a page, collect what it did, screenshot it.

Used by `trainer-sdk report --screenshot`, by the browser tests and by the charting benchmark.
It drives the system's Chromium (Debian's `chromium` package) with a throw-away profile and every
background download switched off, over a websocket on loopback (`websocket-client`). It records

- console errors and uncaught exceptions (`Runtime.consoleAPICalled`, `Runtime.exceptionThrown`,
  `Log.entryAdded`),
- every request the page made (`Network.requestWillBeSent`): a self-contained report makes none
  besides its own document and `data:` URIs,
- the render time: from navigation start to the second animation frame after the load event.
"""

from __future__ import annotations

import base64
import contextlib
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = ["Chromium", "ChromiumMissingError", "PageVisit", "find_chromium"]

_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--mute-audio",
    "--hide-scrollbars",
    "--remote-allow-origins=*",
)
_LOCAL_SCHEMES = ("data:", "about:", "blob:")


class ChromiumMissingError(RuntimeError):
    """No Chromium executable on PATH."""


def find_chromium() -> str:
    """The path of the Chromium executable; raises with the install command when there is none."""
    for name in _CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise ChromiumMissingError(
        "no Chromium on PATH (looked for " + ", ".join(_CANDIDATES) + "); install Debian's "
        "package: apt-get update && apt-get install -y chromium"
    )


@dataclass
class PageVisit:
    """What happened while a page loaded."""

    url: str
    render_ms: float = 0.0
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    @property
    def foreign_requests(self) -> list[str]:
        """Requests other than the page itself and inline (`data:`) resources."""
        return [r for r in self.requests if r != self.url and not r.startswith(_LOCAL_SCHEMES)]


class Chromium:
    """One headless Chromium with one page (a context manager)."""

    def __init__(self, width: int = 1300, height: int = 900, executable: str | None = None) -> None:
        """Start Chromium; raises `ChromiumMissingError` when it is not installed."""
        import websocket

        self._exe = executable or find_chromium()
        self._profile = tempfile.mkdtemp(prefix="trainer-report-chromium-")
        self.width, self.height = width, height
        self._process = subprocess.Popen(
            [
                self._exe,
                *_FLAGS,
                f"--user-data-dir={self._profile}",
                "--remote-debugging-port=0",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            port = self._port()
            page = self._page_socket(port)
            self._ws = websocket.create_connection(page, timeout=60, suppress_origin=True)
        except BaseException:
            self.close()
            raise
        self._next = 0
        self._events: list[dict[str, Any]] = []
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")

    def _port(self, timeout: float = 30.0) -> int:
        marker = Path(self._profile) / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"{self._exe} exited with code {self._process.returncode}")
            if marker.is_file():
                lines = marker.read_text().split()
                if lines:
                    return int(lines[0])
            time.sleep(0.05)
        raise RuntimeError(f"{self._exe} did not open its DevTools port within {timeout:.0f} s")

    @staticmethod
    def _page_socket(port: int) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as answer:
            targets = json.loads(answer.read())
        for target in targets:
            if target.get("type") == "page":
                return str(target["webSocketDebuggerUrl"])
        raise RuntimeError("Chromium has no page target")

    def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send one DevTools command and wait for its result (events are kept meanwhile)."""
        self._next += 1
        ident = self._next
        self._ws.send(json.dumps({"id": ident, "method": method, "params": params or {}}))
        while True:
            message = json.loads(self._ws.recv())
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result
            if "method" in message:
                self._events.append(message)

    def _wait_for(self, method: str, timeout: float = 60.0) -> None:
        if any(e["method"] == method for e in self._events):
            return
        self._ws.settimeout(timeout)
        while True:
            message = json.loads(self._ws.recv())
            if "method" in message:
                self._events.append(message)
                if message["method"] == method:
                    return

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises are awaited)."""
        result = self.call(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:60]}: {result['exceptionDetails'].get('text')}")
        return result.get("result", {}).get("value")

    def visit(self, url: str, ready: str = "true") -> PageVisit:
        """Load `url`, wait until it is drawn, and report what it logged and requested.

        `ready` is a JavaScript condition polled every frame after the load event (for pages that
        draw asynchronously); the render time is taken two frames after it holds.
        """
        self._events.clear()
        self.call("Page.navigate", {"url": url})
        self._wait_for("Page.loadEventFired")
        render_ms = float(
            self.evaluate(
                "new Promise(r => { const t = () => (" + ready + ") ? requestAnimationFrame("
                "() => requestAnimationFrame(() => r(performance.now()))) : "
                "requestAnimationFrame(t); t(); })"
            )
        )
        visit = PageVisit(url, render_ms)
        for event in self._events:
            method, params = event["method"], event.get("params", {})
            if method == "Network.requestWillBeSent":
                visit.requests.append(str(params.get("request", {}).get("url", "")))
            elif method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                visit.console_errors.append(
                    str(details.get("exception", {}).get("description") or details.get("text"))
                )
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                visit.console_errors.append(
                    " ".join(
                        str(a.get("value", a.get("description", "")))
                        for a in params.get("args", [])
                    )
                )
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                visit.console_errors.append(str(params["entry"].get("text")))
        return visit

    def hover(self, x: float, y: float) -> None:
        """Move the mouse to page coordinates (x, y) (scrolls there first)."""
        self.evaluate(f"window.scrollTo(0, {max(0.0, y - self.height / 2)})")
        scroll = float(self.evaluate("window.scrollY"))
        # Move from a corner first: a move to where the pointer already is fires no event.
        for px, py in ((1.0, 1.0), (x, y - scroll)):
            self.call("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": px, "y": py})
        self.evaluate("new Promise(r => requestAnimationFrame(() => r(0)))")

    def screenshot(self, path: Path, *, full_page: bool = True) -> Path:
        """Write a PNG of the page (the whole page by default)."""
        self.evaluate("window.scrollTo(0, 0)")
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            metrics = self.call("Page.getLayoutMetrics")
            size = metrics.get("cssContentSize") or metrics.get("contentSize") or {}
            params["captureBeyondViewport"] = True
            params["clip"] = {
                "x": 0,
                "y": 0,
                "width": float(size.get("width", self.width)),
                "height": float(size.get("height", self.height)),
                "scale": 1,
            }
        data = self.call("Page.captureScreenshot", params)["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        """Stop Chromium and remove its profile."""
        with contextlib.suppress(Exception):
            self._ws.close()
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(10)
        shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self) -> Chromium:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
