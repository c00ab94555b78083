"""`trainer-sdk dev-backend` as a process: listens, requires its token, keeps its record across
a restart, and stops cleanly on Ctrl-C."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from trainer_contract.callbacks import ENDPOINTS
from trainer_contract.openapi import load as load_openapi
from trainer_tools.contract_check.bodies import example_bodies
from trainer_tools.contract_check.scenarios import Prober
from trainer_tools.dev_backend import TIMELINE_PATH

TOKEN = "cli-token"


def start(db: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    # The log goes to a file: a pipe nobody reads would fill up and block the server.
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "trainer_tools.cli", "dev-backend", "--port", "0"),
                *("--db", str(db), "--token", TOKEN),
            ],
            stderr=sink,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        found = re.search(r"listening on (http://\S+)", log.read_text())
        if found:
            return proc, found.group(1)
        time.sleep(0.05)
    proc.kill()
    raise AssertionError(f"the backend did not start:\n{log.read_text()}")


def stop(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGINT)
    return proc.wait(timeout=30)


def test_the_backend_process_keeps_its_record_across_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "record.sqlite3"
    endpoint = next(iter(ENDPOINTS.values()))
    example = example_bodies(load_openapi(), endpoint)[0]
    body = Prober.for_job(endpoint, example.body, 77)
    auth = {"Authorization": f"Bearer {TOKEN}"}

    proc, url = start(db, tmp_path / "first.log")
    try:
        path = endpoint.path.format(job_id=77)
        assert httpx.post(url + path, json=body).status_code == 401
        assert httpx.post(url + path, json=body, headers=auth).status_code == 200
    finally:
        assert stop(proc) == 130  # the shell's code for "stopped by Ctrl-C"
    # Whoever watches the server sees each callback and what it got.
    assert f"#1 job 77 {endpoint.name} -> 200 accepted" in (tmp_path / "first.log").read_text()

    proc, url = start(db, tmp_path / "second.log")
    try:
        timeline = httpx.get(url + TIMELINE_PATH.format(job_id=77), headers=auth).json()
        assert [c["status_code"] for c in timeline["callbacks"]] == [200]
        assert timeline["callbacks"][0]["body"] == body
    finally:
        assert stop(proc) == 130
