"""The real frameworks (torch, torchvision, Ultralytics, timm) live in `.venv-frameworks`, which
`make frameworks-venv` creates (and `make test` before pytest). These tests run them in
subprocesses with that environment's interpreter; when it is missing they FAIL, never skip: a
green run must mean the examples trained for real.

Offline: every training runs in a new network namespace holding only a loopback interface
(`unshare -rn`, then `ip link set lo up`), so that a download or an online check fails instead of
quietly reaching the internet.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from framework_env import BIN, FRAMEWORK_MODULES, OFFLINE_PREFIX, PROBE, VENV


@pytest.fixture(scope="session")
def frameworks_bin() -> Path:
    """The bin/ folder of `.venv-frameworks`, checked to import every framework."""
    python = BIN / "python"
    if not python.exists():
        pytest.fail(
            f"{VENV.name} is missing: `make frameworks-venv` creates it (torch, torchvision, "
            "ultralytics, timm and this project); the real-framework tests never skip",
            pytrace=False,
        )
    done = subprocess.run(
        [str(python), "-c", f"import {', '.join(FRAMEWORK_MODULES)}"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(
            f"{VENV.name} cannot import the frameworks ({done.stderr.strip()[-800:]}); "
            "rebuild it: rm -r .venv-frameworks && make frameworks-venv",
            pytrace=False,
        )
    return BIN


@pytest.fixture(scope="session")
def offline_prefix() -> list[str]:
    """A command prefix that runs the rest in a network namespace with only loopback."""
    for tool in ("unshare", "ip"):
        if shutil.which(tool) is None:
            pytest.fail(f"`{tool}` is needed to run the trainings offline (util-linux, iproute2)")
    prefix = list(OFFLINE_PREFIX)
    probe = subprocess.run(
        [*prefix, "python3", "-c", PROBE], capture_output=True, text=True, timeout=60
    )
    if probe.returncode != 0 or probe.stdout.split() != ["loopback-ok", "only-loopback"]:
        pytest.fail(
            "cannot make a network namespace with only loopback (unshare -rn): "
            f"{probe.stdout.strip()} {probe.stderr.strip()[-500:]}",
            pytrace=False,
        )
    return prefix
