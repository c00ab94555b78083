"""A small real HTTP backend on loopback for SDK integration tests (stdlib only).

It accepts every POST, records it, and can misbehave on demand: answer 503 (`fail`), stop
listening altogether so connections are refused (`down`), and come back on the same port (`up`).
Each accepted callback is recorded once per Idempotency-Key, as a real backend would; raw
receipts (duplicates included) are kept too, so tests can prove nothing arrived twice.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Receipt:
    """One request the backend answered."""

    path: str
    key: str
    body: dict[str, Any]
    status: int


class LoopbackBackend:
    """A controllable callback backend on 127.0.0.1."""

    def __init__(self, port: int = 0) -> None:
        self._lock = threading.Lock()
        self.receipts: list[Receipt] = []
        self.failing = False
        self.on_accept: Callable[[Receipt], None] | None = None
        self._port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port (fixed after the first start, so `up()` returns on the same one)."""
        return self._port

    @property
    def url(self) -> str:
        """The API base to use as CALLBACK_URL."""
        return f"http://127.0.0.1:{self._port}/api/v1"

    def accepted(self) -> list[Receipt]:
        """Requests answered 2xx, in arrival order."""
        with self._lock:
            return [r for r in self.receipts if r.status < 300]

    def up(self) -> None:
        """Start listening (again, on the same port)."""
        backend = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                status = 503 if backend.failing else 200
                receipt = Receipt(self.path, self.headers.get("Idempotency-Key", ""), body, status)
                with backend._lock:
                    backend.receipts.append(receipt)
                payload = json.dumps(
                    {
                        "success": status == 200,
                        "message": "ok" if status == 200 else "busy",
                        "job_status": "running",
                    }
                ).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                if status == 200 and backend.on_accept is not None:
                    backend.on_accept(receipt)

            def log_message(self, format: str, *args: Any) -> None:
                return  # keep test output clean

        server = ThreadingHTTPServer(("127.0.0.1", self._port), Handler)
        server.daemon_threads = True
        self._port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()

    def down(self) -> None:
        """Stop listening: new connections are refused until `up()`."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    def down_soon(self) -> None:
        """`down()` from another thread (safe to call from a request handler)."""
        threading.Thread(target=self.down, daemon=True).start()
