"""Real processes and real servers for the delivery tests of the adversarial suite.

- `reference_backend(tmp)`: the reference backend (SQLite store) served by uvicorn on loopback.
- `FaultProxy(upstream)`: a loopback HTTP proxy in front of it that forwards every request and can
  answer 500 to chosen callbacks, hang on them, or refuse everything; it records each request it
  saw (path, Authorization header, body) so a test can prove where a token went.
- `run_trainer(...)`: a `train.py` run as its own Python process with a contract environment.
- `tiny_filesystem(dir)`: a 64 KiB tmpfs mounted on `dir`, so that a disk really fills.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from trainer_contract.env import ENV_VARS
from trainer_tools.dev_backend import Store, TimelineEntry, create_app
from trainer_tools.dry_run.services import AsgiServer

TOKEN = "adversarial-delivery-token-7f3a"


@dataclass(frozen=True)
class Seen:
    """One request that reached a proxy or a listener."""

    method: str
    path: str
    authorization: str
    body: bytes
    status: int


Rule = Callable[[str, bytes], bool]


class FaultProxy:
    """Forwards to `upstream`; `refuse(rule)` answers 500 and `hang(rule)` never answers the
    requests a rule matches (`rule(path, body)`); `refuse_all` answers 503 to everything."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or 80
        self._lock = threading.Lock()
        self._refused: list[Rule] = []
        self._hung: list[Rule] = []
        self._release = threading.Event()
        self.refuse_all = False
        self.seen: list[Seen] = []
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        """The base URL to give the trainer as CALLBACK_URL."""
        assert self._server is not None, "the proxy is not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def refuse(self, rule: Rule) -> None:
        """Answer HTTP 500 to every request `rule` matches, for ever."""
        with self._lock:
            self._refused.append(rule)

    def hang(self, rule: Rule) -> None:
        """Accept the requests `rule` matches and never answer them (until `stop`)."""
        with self._lock:
            self._hung.append(rule)

    def requests(self, predicate: Callable[[Seen], bool] = lambda s: True) -> list[Seen]:
        """The requests seen so far that match `predicate`."""
        with self._lock:
            return [s for s in self.seen if predicate(s)]

    def _note(self, seen: Seen) -> None:
        with self._lock:
            self.seen.append(seen)

    def _decide(self, path: str, body: bytes) -> str:
        with self._lock:
            if any(rule(path, body) for rule in self._hung):
                return "hang"
            if self.refuse_all or any(rule(path, body) for rule in self._refused):
                return "refuse"
        return "forward"

    def start(self) -> FaultProxy:
        """Listen on a free loopback port."""
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _relay(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                auth = self.headers.get("Authorization", "")
                verdict = proxy._decide(self.path, body)
                if verdict == "hang":
                    proxy._note(Seen(self.command, self.path, auth, body, 0))
                    proxy._release.wait(600)
                    self.close_connection = True
                    return
                if verdict == "refuse":
                    status = 503 if proxy.refuse_all else 500
                    payload = json.dumps({"detail": "injected fault"}).encode()
                    proxy._note(Seen(self.command, self.path, auth, body, status))
                    self._answer(status, payload, "application/json")
                    return
                connection = http.client.HTTPConnection(proxy._host, proxy._port, timeout=30)
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() not in ("host", "connection", "content-length")
                }
                connection.request(self.command, self.path, body=body, headers=headers)
                response = connection.getresponse()
                payload = response.read()
                connection.close()
                proxy._note(Seen(self.command, self.path, auth, body, response.status))
                self._answer(
                    response.status, payload, response.getheader("Content-Type") or "text/plain"
                )

            def _answer(self, status: int, payload: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_POST = _relay
            do_GET = _relay

            def log_message(self, format: str, *args: Any) -> None:
                return

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._server = server
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Release hung requests and stop listening."""
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Listener:
    """A loopback HTTP server that answers 200 to everything and records what reached it."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self._server: ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    def __enter__(self) -> Listener:
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def _record(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                auth = self.headers.get("Authorization", "")
                listener.seen.append(Seen(self.command, self.path, auth, body, 200))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            do_POST = _record
            do_GET = _record
            do_PUT = _record

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


@dataclass
class Backend:
    """A running reference backend and its store."""

    server: AsgiServer
    store: Store

    @property
    def url(self) -> str:
        return self.server.url

    def timeline(self, job_id: int) -> list[TimelineEntry]:
        return self.store.timeline(job_id)

    def phase(self, job_id: int) -> str | None:
        states = self.store.job_states(job_id)
        return states["training"].phase.value if "training" in states else None


@contextlib.contextmanager
def reference_backend(folder: Path) -> Iterator[Backend]:
    """The reference backend on a free loopback port, with a bearer token and a SQLite file."""
    folder.mkdir(parents=True, exist_ok=True)
    store = Store(folder / "backend.sqlite3")
    try:
        with AsgiServer(create_app(store, token=TOKEN)) as server:
            yield Backend(server, store)
    finally:
        store.close()


def trainer_env(callback_url: str, work_dir: Path, job_id: int = 7, **extra: str) -> dict[str, str]:
    """The environment of a trainer process: the parent's minus every contract variable, plus
    a small contract environment (fast retries) and `extra`."""
    env = {k: v for k, v in os.environ.items() if k not in ENV_VARS}
    env.update(
        {
            "JOB_ID": str(job_id),
            "CALLBACK_URL": callback_url,
            "CALLBACK_TOKEN": TOKEN,
            "WORK_DIR": str(work_dir),
            "TMP_DIR": str(work_dir.parent / "tmp"),
            "CALLBACK_MAX_RETRIES": "1",
            "CALLBACK_RETRY_DELAY": "0.01",
            "CALLBACK_TIMEOUT": "5",
            "DEVICE": "cpu",
            "EPOCHS": "3",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


def write_trainer(folder: Path, source: str) -> Path:
    """Write `source` (dedented) as `folder/train.py`."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "train.py"
    script.write_text(textwrap.dedent(source), encoding="utf-8")
    return script


def run_trainer(
    script: Path, env: dict[str, str], timeout: float = 120, args: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """Run a trainer to its end in its own process (`args` after the script)."""
    return subprocess.run(
        [sys.executable, str(script), *args],
        env=env,
        cwd=script.parent,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def start_trainer(script: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    """Start a trainer in its own process (the caller waits for it)."""
    return subprocess.Popen(
        [sys.executable, str(script)],
        env=env,
        cwd=script.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def trainer_cli(
    *args: str, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`trainer-sdk ARGS` as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "trainer_tools.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def wait_for(condition: Callable[[], bool], timeout: float = 60, what: str = "condition") -> None:
    """Poll until `condition()` holds; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


@contextlib.contextmanager
def tiny_filesystem(mount_point: Path, size: str = "64k") -> Iterator[Path]:
    """A real tmpfs of `size` on `mount_point`: writes beyond it fail with ENOSPC.

    Needs the right to mount (root, as in CI's container); without it the test fails loudly
    instead of pretending a disk filled.
    """
    mount_point.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0777", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"cannot mount a {size} tmpfs on {mount_point} ({done.stderr.strip()}); the full-disk "
            "tests need the right to mount (run them as root or in a privileged container)"
        )
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False, capture_output=True)


def fill(folder: Path) -> None:
    """Write a filler file into `folder` until its filesystem is full."""
    with contextlib.suppress(OSError), (folder / "filler").open("ab") as handle:
        while True:
            handle.write(b"\0" * 512)
            handle.flush()


def spool_lines(path: Path) -> list[bytes]:
    """The raw lines of a spool file."""
    return path.read_bytes().splitlines(keepends=True)
