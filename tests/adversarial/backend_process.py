"""`trainer-sdk dev-backend` as a separate process, for the adversarial tests that need a real one."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit


class Backend:
    """`trainer-sdk dev-backend` in its own process, with its stderr in a file."""

    def __init__(self, tmp: Path, *args: str) -> None:
        self.log = tmp / f"backend-{time.monotonic_ns()}.log"
        with self.log.open("wb") as sink:
            self.proc = subprocess.Popen(
                [
                    *(sys.executable, "-m", "trainer_tools.cli", "dev-backend", "--port", "0"),
                    *("--db", str(tmp / "record.sqlite3"), *args),
                ],
                stderr=sink,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self.proc.poll() is None:
            found = re.search(r"listening on (http://\S+)", self.log.read_text())
            if found:
                parts = urlsplit(found.group(1))
                self.host, self.port = parts.hostname or "", int(parts.port or 0)
                self._wait_until_serving(deadline)
                return
            time.sleep(0.05)
        self.proc.kill()
        raise AssertionError(f"the backend did not start:\n{self.log.read_text()}")

    def _wait_until_serving(self, deadline: float) -> None:
        """The address is printed once bound; uvicorn listens a moment later."""
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"the backend does not accept connections:\n{self.log.read_text()}")

    def rss_mb(self) -> float:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        found = re.search(r"VmRSS:\s+(\d+) kB", status)
        assert found, status
        return int(found.group(1)) / 1024

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            self.proc.wait(timeout=30)

    @property
    def url(self) -> str:
        """The base URL (CALLBACK_URL) of the server."""
        return f"http://127.0.0.1:{self.port}"
