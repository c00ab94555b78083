"""A loopback HTTP proxy in front of the test S3 server that injects faults for chosen keys."""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import unquote, urlsplit


class FaultyProxy:
    """Forwards GETs to `upstream`; requests whose path ends with a key in `fail_keys` get
    `status` (or, with `truncate=True`, a body cut short) for the first `times` requests
    (`times=None`: always)."""

    def __init__(
        self,
        upstream: str,
        *,
        fail_keys: set[str],
        status: int = 503,
        times: int | None = None,
        truncate: bool = False,
    ) -> None:
        self.upstream = urlsplit(upstream)
        self.fail_keys = fail_keys
        self.status = status
        self.remaining = times
        self.truncate = truncate
        self.failures = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def _should_fail(self, path: str) -> bool:
        with self._lock:
            if not any(unquote(path).endswith(key) for key in self.fail_keys):
                return False
            if self.remaining == 0:
                return False
            if self.remaining is not None:
                self.remaining -= 1
            self.failures += 1
            return True

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                if proxy._should_fail(self.path):
                    if proxy.truncate:
                        self.send_response(200)
                        self.send_header("Content-Length", "1000")
                        self.end_headers()
                        self.wfile.write(b"short")
                        self.close_connection = True
                        return
                    body = b"<Error><Code>SlowDown</Code></Error>"
                    self.send_response(proxy.status)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                upstream = http.client.HTTPConnection(
                    proxy.upstream.hostname, proxy.upstream.port, timeout=30
                )
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                upstream.request("GET", self.path, headers=headers)
                answer = upstream.getresponse()
                body = answer.read()
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                upstream.close()

        return Handler

    def __enter__(self) -> FaultyProxy:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
