"""The outbox on a full disk: a real 64 KiB tmpfs as WORK_DIR, the backend refusing (503).

What must hold: no torn spool line (every line on disk is one whole record), the closing summary
counts what is really on disk and says how many callbacks were lost, and neither a replay nor a
restart on the full disk crashes (compaction and the done marks fail quietly). While the disk is
full, delivery goes on from memory.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from delivery_harness import (
    FaultProxy,
    fill,
    reference_backend,
    run_trainer,
    spool_lines,
    tiny_filesystem,
    trainer_cli,
    trainer_env,
    write_trainer,
)

from trainer_contract.exit_codes import ExitCode
from trainer_sdk.delivery.outbox import outbox_path, read_outbox

LINES = 150

CHATTY = f"""
    from trainer_sdk import run

    def main(sdk):
        for i in range({LINES}):
            sdk.log_info(f"line {{i:03d}} " + "x" * 1000)
        raise RuntimeError("boom")

    run(main)
"""

RESTARTED = """
    from trainer_sdk import TrainerSDK

    with TrainerSDK() as sdk:
        for i in range(20):
            sdk.log_info(f"after the restart {i}")
        sdk.flush_logs()
"""


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    with tiny_filesystem(tmp_path / "disk") as mount:
        yield mount


def _count(pattern: str, text: str) -> int:
    found = re.search(pattern, text)
    assert found, f"{pattern!r} not in:\n{text}"
    return int(found.group(1))


def test_full_disk_no_torn_line_true_summary_and_replay_restart_survive(
    tmp_path: Path, full_disk: Path
) -> None:
    work = full_disk / "work"
    spool = outbox_path(work, 7)
    with reference_backend(tmp_path / "backend") as backend, FaultProxy(backend.url) as proxy:
        proxy.refuse_all = True
        script = write_trainer(tmp_path / "trainer", CHATTY)
        done = run_trainer(script, trainer_env(proxy.url, work))
        assert done.returncode == int(ExitCode.CALLBACK_FAILURE), done.stderr
        assert (
            "Traceback (most recent call last)" not in done.stderr.split("RuntimeError: boom")[-1]
        )

        # No torn line: every line is one whole JSON record ending in a newline.
        lines = spool_lines(spool)
        assert lines, "nothing reached the disk"
        for number, line in enumerate(lines, 1):
            assert line.endswith(b"\n"), f"line {number} is torn: {line[-60:]!r}"
            json.loads(line)
        state = read_outbox(spool)
        assert state.torn_lines == 0
        on_disk = len(state.pending)
        assert 0 < on_disk < LINES + 1

        # The summary counts what is on disk and says what was lost (150 logs + the failure).
        kept = _count(r"(\d+) kept in the outbox", done.stderr)
        lost = _count(r"(\d+) lost", done.stderr)
        assert kept == on_disk
        assert kept + lost == LINES + 1
        assert "No space left on device" in done.stderr

        # Replay on the still-full disk delivers what was kept; marks it cannot write are said.
        fill(full_disk)
        env = trainer_env(backend.url, work)
        replayed = trainer_cli(
            "outbox", "replay", str(spool), "--callback-url", backend.url, env=env
        )
        assert replayed.returncode == 0, replayed.stdout + replayed.stderr
        assert "Traceback" not in replayed.stderr
        delivered = [e for e in backend.timeline(7) if e.accepted]
        assert len(delivered) == on_disk
        assert "could not" in replayed.stderr and "No space left" in replayed.stderr

        # A process with the same JOB_ID on the full disk opens the spool (its compaction fails
        # quietly) and delivers from memory what it cannot write.
        restart = write_trainer(tmp_path / "restart", RESTARTED)
        again = run_trainer(restart, trainer_env(backend.url, work))
        assert again.returncode == 0, again.stderr
        assert "Traceback" not in again.stderr
        assert "cannot compact" in again.stderr
        messages = [e.body.get("message") for e in backend.timeline(7) if e.accepted]
        assert [m for m in messages if m and m.startswith("after the restart")] == [
            f"after the restart {i}" for i in range(20)
        ]
        assert all(line.endswith(b"\n") for line in spool_lines(spool))
