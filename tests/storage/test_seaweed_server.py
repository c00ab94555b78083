"""The SeaweedFS launcher: its own ports, enforced credentials, clean stop, clear start errors."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from trainer_tools.services.seaweed import SeaweedServer, SeaweedStartError, find_weed_binary

pytestmark = pytest.mark.s3


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is dead for our purpose.
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(")")[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_a_second_server_coexists_and_stops_without_orphans(
    seaweed: SeaweedServer, tmp_path: Path
) -> None:
    with SeaweedServer(tmp_path / "second") as second:
        assert second.endpoint != seaweed.endpoint
        assert not set(second.ports.values()) & set(seaweed.ports.values())
        second.create_bucket("only-here")
        second.create_bucket("only-here")  # idempotent
        names = [b["Name"] for b in second.client().list_buckets()["Buckets"]]
        assert names == ["only-here"]
        assert "only-here" not in [b["Name"] for b in seaweed.client().list_buckets()["Buckets"]]
        process = second._process
        assert process is not None
        group = process.pid
        secret = second.secret_key
        assert secret not in repr(second)
    assert not second.running
    with pytest.raises(ProcessLookupError):
        os.killpg(group, 0)
    assert not _alive(group)
    assert (tmp_path / "second" / "weed.log").exists()
    assert not list(Path("/tmp").glob(f"seaweedfs-*-{second.ports['s3']}.sock"))


def test_credentials_are_enforced(seaweed: SeaweedServer) -> None:
    wrong = SeaweedServer.__new__(SeaweedServer)
    wrong.__dict__.update(seaweed.__dict__)
    wrong._secret_key = "not-the-secret"
    with pytest.raises(ClientError) as caught:
        wrong.client().list_buckets()
    assert caught.value.response["Error"]["Code"] in ("SignatureDoesNotMatch", "AccessDenied")


def test_a_server_that_cannot_start_reports_its_log(tmp_path: Path) -> None:
    fake = tmp_path / "weed"
    fake.write_text("#!/bin/sh\necho 'fatal: cannot open volume' >&2\nexit 3\n")
    fake.chmod(0o755)
    server = SeaweedServer(tmp_path / "data", weed_binary=str(fake), start_timeout=10)
    with pytest.raises(SeaweedStartError) as caught:
        server.start()
    message = str(caught.value)
    assert "exited with code 3" in message
    assert "fatal: cannot open volume" in message
    assert not server.running
    with pytest.raises(SeaweedStartError, match="not started"):
        _ = SeaweedServer(tmp_path / "other").endpoint


def test_the_binary_is_found_beside_the_interpreter() -> None:
    path = Path(find_weed_binary())
    assert path.name == "weed" and os.access(path, os.X_OK)


def _weed_processes_for(folder: Path) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                argv = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if f"-dir={folder}".encode() in argv.split(b"\0") and _alive(int(entry.name)):
                found.append(int(entry.name))
    return found


def test_ctrl_c_while_waiting_for_the_server_stops_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(self: SeaweedServer) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(SeaweedServer, "_wait_until_ready", interrupted)
    server = SeaweedServer(tmp_path / "s3")
    with pytest.raises(KeyboardInterrupt):
        server.start()
    assert _weed_processes_for(tmp_path / "s3" / "store") == []


def test_ctrl_c_inside_popen_leaves_no_orphan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_popen = subprocess.Popen

    def popen_then_interrupt(*args: Any, **kwargs: Any) -> Any:
        process = real_popen(*args, **kwargs)  # the child exists, the caller never sees it
        assert process.pid > 0
        raise KeyboardInterrupt

    monkeypatch.setattr("trainer_tools.services.seaweed.subprocess.Popen", popen_then_interrupt)
    server = SeaweedServer(tmp_path / "s3")
    with pytest.raises(KeyboardInterrupt):
        server.start()
    deadline = time.monotonic() + 5
    while _weed_processes_for(tmp_path / "s3" / "store") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _weed_processes_for(tmp_path / "s3" / "store") == []


def test_strays_are_found_by_their_data_folder_argument(tmp_path: Path) -> None:
    marker = f"-dir={tmp_path / 'store'}"
    stray = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", marker], start_new_session=True
    )
    bystander = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        SeaweedServer._kill_strays(marker)
        assert stray.wait(timeout=5) == -9
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()
