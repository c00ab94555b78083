"""Paths of the frameworks environment and the offline runner, for tests/frameworks."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv-frameworks"
BIN = VENV / "bin"
FRAMEWORK_MODULES = ("torch", "torchvision", "ultralytics", "timm", "trainer_sdk", "trainer_tools")
OFFLINE_PREFIX = ("unshare", "-rn", "sh", "-c", 'ip link set lo up && exec "$@"', "offline")
"""Runs the rest of the command in a new network namespace with only loopback, brought up."""

# Inside the namespace: a loopback server answers, and loopback is the only interface (no packet
# is ever sent to an outside address to find that out).
PROBE = """
import socket
server = socket.socket(); server.bind(("127.0.0.1", 0)); server.listen(1)
socket.create_connection(server.getsockname(), timeout=2).close(); print("loopback-ok")
names = [name for _, name in socket.if_nameindex()]
print("only-loopback" if names == ["lo"] else "interfaces:" + ",".join(names))
"""


def run_offline(
    prefix: Sequence[str], command: Sequence[str], env: dict[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    """Run `command` from the project root in the loopback-only namespace."""
    return subprocess.run(
        [*prefix, *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
