"""`trainer-sdk dry-run` as a user runs it: a failed training is FAIL (exit 1) unless
`--expect-failure`; PASS/FAIL coloured on a terminal and never with NO_COLOR; the timeline fits
COLUMNS; the servers are stopped right after the verdict."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.s3

FAILING_TRAINER = """
from trainer_sdk import ErrorType, TrainerSDK

with TrainerSDK() as sdk:
    epochs = sdk.get_basic_config()["epochs"]
    sdk.report_started("training", total_epochs=epochs)
    sdk.report_progress(1, epochs, {"loss": 0.5})
    sdk.report_failed(ErrorType.DATASET_ERROR, "no images in the split", None, 1)
raise SystemExit(1)
"""


def dry_run(
    train_py: Path, *extra: str, env: dict[str, str] | None = None, tty: bool = False
) -> tuple[int, str, str]:
    """Run the command: (status, stdout, stderr); with `tty`, stdout is a pseudo-terminal."""
    command = [sys.executable, "-m", "trainer_tools.cli", "dry-run", str(train_py), *extra]
    environment = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COLUMNS")}
    environment.update(env or {})
    if not tty:
        done = subprocess.run(command, capture_output=True, text=True, timeout=180, env=environment)
        return done.returncode, done.stdout, done.stderr
    leader, follower = pty.openpty()
    with subprocess.Popen(
        command, stdout=follower, stderr=subprocess.PIPE, env=environment
    ) as proc:
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert proc.stderr is not None
        errors = proc.stderr.read().decode(errors="replace")
        proc.wait(timeout=180)
        os.close(leader)
        return proc.returncode, b"".join(chunks).decode(errors="replace"), errors


@pytest.fixture
def failing(tmp_path: Path) -> Path:
    path = tmp_path / "train.py"
    path.write_text(FAILING_TRAINER)
    return path


def test_a_reported_failure_is_fail_unless_expected(failing: Path) -> None:
    code, out, err = dry_run(failing, "--epochs", "2", "--json")
    assert code == 1, err
    verdict = json.loads(out)
    assert verdict["ok"] is False and verdict["outcome"] == "failed"
    failed = {c["name"]: c["summary"] for c in verdict["checks"] if not c["ok"]}
    assert list(failed) == ["training_succeeded"]
    assert "[DatasetError] no images in the split" in failed["training_succeeded"]
    assert "verdict: FAIL" in err

    code, out, err = dry_run(failing, "--epochs", "2", "--expect-failure")
    assert code == 0, out
    assert "verdict: PASS" in out
    assert "failed as expected (--expect-failure)" in out


def test_pass_and_fail_are_coloured_on_a_terminal_unless_no_color(failing: Path) -> None:
    code, out, _ = dry_run(failing, "--epochs", "1", tty=True, env={"COLUMNS": "72"})
    assert code == 1
    assert "verdict: \x1b[1;31mFAIL\x1b[0m" in out
    assert "\x1b[1;32mPASS\x1b[0m  payloads_valid" in out
    # The timeline fits the terminal's 72 columns.
    table = out[out.index("callback timeline") : out.index("verdict:")]
    rows = [line for line in table.replace("\r", "").splitlines() if line.strip()]
    assert len(rows) >= 4 and max(len(r) for r in rows) <= 72, rows

    code, out, _ = dry_run(failing, "--epochs", "1", tty=True, env={"NO_COLOR": "1"})
    assert code == 1
    assert "verdict: FAIL" in out and "\x1b[" not in out
    # Not a terminal: no colour either.
    code, out, _ = dry_run(failing, "--epochs", "1")
    assert "verdict: FAIL" in out and "\x1b[" not in out


def test_the_servers_are_stopped_right_after_the_verdict(tmp_path: Path) -> None:
    examples = Path(__file__).resolve().parents[2] / "examples"
    code, out, err = dry_run(
        examples / "minimal" / "train.py",
        "--dataset",
        str(examples / "data"),
        "--epochs",
        "1",
        "--json",
    )
    assert code == 0, err[-3000:]
    verdict = json.loads(out)
    # Measured and reported with the verdict (the number itself is a benchmark's business:
    # benchmarks/bench_dry_run_teardown.py); what is tested is that the verdict is the last
    # thing said and the teardown is accounted for.
    assert 0 < verdict["teardown_seconds"] < verdict["duration_seconds"]
    assert err.rstrip().splitlines()[-1].startswith("  PASS  training_succeeded")
