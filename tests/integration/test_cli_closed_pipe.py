"""`| head` on any command is quiet: when the reader of stdout is gone, no traceback, no
"Exception ignored" message, and the command stops (exit status 1). `--help` and `--version`
exit 0 as before: argparse itself drops a failed write of its message."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from trainer_tools.cli import discover

ROOT = Path(__file__).resolve().parents[2]
TRAINER_SDK = [sys.executable, "-m", "trainer_tools.cli"]
TRAINER_LINT = [sys.executable, "-m", "trainer_tools.trainer_lint"]


def with_closed_stdout(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run `command` with stdout a pipe whose reader has already gone (what `| head` leaves
    behind, made deterministic: every write fails with EPIPE)."""
    reader, writer = os.pipe()
    os.close(reader)
    try:
        return subprocess.run(
            command,
            stdout=writer,
            stderr=subprocess.PIPE,
            text=True,
            cwd=cwd,
            timeout=120,
        )
    finally:
        os.close(writer)


COMMANDS = [
    pytest.param([*TRAINER_SDK, "--help"], id="trainer-sdk --help"),
    pytest.param([*TRAINER_SDK, "--version"], id="trainer-sdk --version"),
    *(
        pytest.param(
            [*TRAINER_SDK, command.NAME, "--help"], id=f"trainer-sdk {command.NAME} --help"
        )
        for command in discover()
    ),
    pytest.param(
        [*TRAINER_SDK, "k8s-job", "--image", "registry.example/t:1", "--job-id", "7"],
        id="trainer-sdk k8s-job",
    ),
    pytest.param(
        [*TRAINER_SDK, "dry-run", str(ROOT / "examples" / "minimal" / "train.py")],
        id="trainer-sdk dry-run",
    ),
    pytest.param([*TRAINER_LINT, "--isolated", str(ROOT / "examples")], id="trainer-lint"),
    pytest.param([*TRAINER_LINT, "--list-rules"], id="trainer-lint --list-rules"),
    pytest.param([*TRAINER_LINT, "--explain", "TRL001"], id="trainer-lint --explain"),
    pytest.param([*TRAINER_LINT, "--help"], id="trainer-lint --help"),
]


@pytest.mark.parametrize("command", COMMANDS)
def test_a_closed_pipe_is_quiet(command: list[str], tmp_path: Path) -> None:
    done = with_closed_stdout(command, tmp_path)
    assert "Traceback" not in done.stderr, done.stderr
    assert "BrokenPipeError" not in done.stderr, done.stderr
    assert "Exception ignored" not in done.stderr, done.stderr
    informational = "--help" in command or "--version" in command
    assert done.returncode in ((0, 1) if informational else (1,)), (done.returncode, done.stderr)
