"""Servers the dry-run starts: the reference backend on uvicorn, in a thread, on a free port.

The socket is bound here (port 0, so the kernel picks a free one) and handed to uvicorn, so that
there is no window in which another process could take the port between choosing and binding it.
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn

__all__ = ["AsgiServer", "ServerStartError", "bind_socket"]


def bind_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to (host, port) and listening; port 0 picks a free one
    (see `getsockname()`)."""
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY only on sockets that say they are TCP,
    # and without it every answer waits ~40 ms for a delayed ACK (Nagle).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    # Listening at once: whoever is told the address may connect before the server runs (the
    # connection waits in the backlog until it accepts).
    sock.listen(2048)
    return sock


class ServerStartError(RuntimeError):
    """A server the dry-run needs did not start."""


class AsgiServer:
    """Serve an ASGI app with uvicorn on a loopback port in a daemon thread (a context manager).

    `url` is `http://HOST:PORT` once started. Stopping asks uvicorn to exit and waits for it, so
    that in-flight requests finish and the SQLite store is no longer written to.
    """

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        """Prepare the server; nothing listens until `start()` (or `with`)."""
        self.app = app
        self.host = host
        self.port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def url(self) -> str:
        """The base URL of the running server."""
        if self._socket is None:
            raise ServerStartError("the server is not started; use it as a context manager")
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 15.0) -> AsgiServer:
        """Bind, start uvicorn in a thread and wait until it accepts connections."""
        sock = bind_socket(self.host, self.port)
        self.port = int(sock.getsockname()[1])
        self._socket = sock
        config = uvicorn.Config(
            self.app, log_level="warning", lifespan="off", access_log=False, timeout_keep_alive=5
        )
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="dev-backend", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not self._thread.is_alive():
                raise ServerStartError(f"the backend on {self.host}:{self.port} exited at start")
            if time.monotonic() > deadline:
                self.stop()
                raise ServerStartError(
                    f"the backend on {self.host}:{self.port} did not start within {timeout:.0f} s"
                )
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Ask uvicorn to exit and wait for its thread; safe to call twice."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive() and self._server is not None:
                self._server.force_exit = True
                self._thread.join(timeout)
        if self._socket is not None:
            self._socket.close()
        self._server = None
        self._thread = None

    def __enter__(self) -> AsgiServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
