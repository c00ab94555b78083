"""`dry-run` end to end: the example passes; each broken example fails with its precise verdict.

The dry-runs here share the session's SeaweedFS (`seaweed` fixture) and use distinct job ids, so
that checkpoints of one test can never satisfy another's. One test runs the real command in a
subprocess, with its own S3 server, exactly as `make demo` does; another interrupts it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from trainer_tools.dry_run import CHECK_NAMES, DryRunError, DryRunOptions, DryRunResult, dry_run
from trainer_tools.dry_run.dataset_upload import DatasetError
from trainer_tools.services.seaweed import SeaweedServer

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
DATASET = EXAMPLES / "data"

pytestmark = pytest.mark.s3


def run(
    seaweed: SeaweedServer,
    train_py: Path,
    job_id: int,
    dataset: Path | None = None,
    epochs: int = 3,
    timeout: float = 120.0,
) -> tuple[DryRunResult, list[str]]:
    lines: list[str] = []
    options = DryRunOptions(
        train_py=train_py,
        dataset=dataset,
        epochs=epochs,
        env={"JOB_ID": str(job_id)},
        timeout=timeout,
    )
    result = dry_run(options, say=lines.append, stream=lines.append, s3_server=seaweed)
    return result, lines


def failed(result: DryRunResult) -> dict[str, tuple[str, ...]]:
    """The failing checks with their summary and details."""
    return {c.name: (c.summary, *c.details) for c in result.verdict.checks if not c.ok}


def test_the_minimal_example_passes_every_check(seaweed: SeaweedServer) -> None:
    result, lines = run(seaweed, EXAMPLES / "minimal" / "train.py", 201, DATASET, epochs=3)
    assert result.verdict.ok, "\n".join(lines)
    assert [c.name for c in result.verdict.checks] == list(CHECK_NAMES)
    assert result.run is not None and result.run.exit_code == 0
    # The trainer's own output was streamed with the prefix, epoch by epoch.
    assert sum(line.startswith("train | epoch ") for line in lines) == 3
    lifecycle = result.verdict.check("lifecycle_in_order")
    assert "epochs 0..3" in lifecycle.summary
    checkpoints = result.verdict.check("checkpoints_exist")
    assert "checkpoints/201/best.pt" in checkpoints.summary
    assert "checkpoints/201/last.pt" in checkpoints.summary
    # The table lists every callback.
    assert f"callback timeline of job 201 ({len(result.timeline)} callbacks):" in lines
    assert lines[-1].startswith("verdict: PASS")


def test_no_report_completed_fails_the_lifecycle_and_the_exit_code(seaweed: SeaweedServer) -> None:
    result, _ = run(seaweed, EXAMPLES / "broken" / "no_completed.py", 202)
    problems = failed(result)
    assert set(problems) == {"lifecycle_in_order", "exit_code_agrees", "training_succeeded"}
    assert any("no final callback" in d for d in problems["lifecycle_in_order"])
    assert "exited 0 (SUCCESS) without a final callback" in problems["exit_code_agrees"][0]


def test_an_invalid_payload_fails_payloads_naming_each_path(seaweed: SeaweedServer) -> None:
    result, lines = run(seaweed, EXAMPLES / "broken" / "invalid_payload.py", 203)
    problems = failed(result)
    assert set(problems) == {"payloads_valid"}
    summary, *details = problems["payloads_valid"]
    assert summary.startswith("1 of ")
    assert any("#2 training_progress $.current_epoch" in d for d in details), details
    assert any("$.metrics.loss" in d for d in details), details
    assert "train | hand-built progress callback: HTTP 422" in lines


def test_exit_zero_after_report_failed_fails_the_exit_code_check(seaweed: SeaweedServer) -> None:
    result, _ = run(seaweed, EXAMPLES / "broken" / "exit_zero_after_failed.py", 204)
    problems = failed(result)
    assert set(problems) == {"exit_code_agrees", "training_succeeded"}
    assert problems["training_succeeded"][0].startswith("the job reported a failure (#3: ")
    assert problems["exit_code_agrees"][0].startswith(
        "exited 0 (SUCCESS) but the final callback #3 reported 'failed' with exit code 1"
    )


def test_a_checkpoint_never_uploaded_fails_the_checkpoint_check(seaweed: SeaweedServer) -> None:
    result, _ = run(seaweed, EXAMPLES / "broken" / "phantom_checkpoint.py", 205)
    problems = failed(result)
    assert set(problems) == {"checkpoints_exist"}
    details = problems["checkpoints_exist"][1:]
    assert details and all("checkpoints/205/best.pt does not exist" in d for d in details)
    assert any("$.checkpoints.best" in d for d in details)


def test_a_trainer_that_hangs_is_stopped_at_the_timeout(
    seaweed: SeaweedServer, tmp_path: Path
) -> None:
    train_py = tmp_path / "train.py"
    train_py.write_text("import time\nprint('working', flush=True)\ntime.sleep(600)\n")
    started = time.monotonic()
    result, lines = run(seaweed, train_py, 206, timeout=2.0)
    assert time.monotonic() - started < 60
    assert "train | working" in lines
    problems = failed(result)
    assert "did not exit by itself" in problems["exit_code_agrees"][0]
    assert "no callback" in problems["lifecycle_in_order"][0]


def test_bad_arguments_are_reported_before_anything_starts(tmp_path: Path) -> None:
    with pytest.raises(DryRunError, match="no such file"):
        dry_run(DryRunOptions(train_py=tmp_path / "missing.py"))
    (tmp_path / "train.py").write_text("")
    (tmp_path / "annotations_detection.json").write_text('{"images": "not a list"}')
    with pytest.raises(DatasetError, match=r"not a valid DICE annotation file"):
        dry_run(DryRunOptions(train_py=tmp_path / "train.py", dataset=tmp_path))


def test_the_command_runs_the_demo_and_prints_json(tmp_path: Path) -> None:
    # The real command, in its own process, with its own S3 server: what `make demo` runs.
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "trainer_tools.cli",
            "dry-run",
            str(EXAMPLES / "minimal" / "train.py"),
            "--dataset",
            str(DATASET),
            "--epochs",
            "2",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    verdict = json.loads(completed.stdout)
    assert verdict["ok"] is True
    assert [c["name"] for c in verdict["checks"]] == list(CHECK_NAMES)
    assert verdict["exit_code"] == 0
    # The human-readable story went to stderr, secrets masked.
    assert "verdict: PASS" in completed.stderr
    assert "EXTERNAL_STORAGE_SECRET_KEY=***" in completed.stderr


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            environ = (entry / "environ").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if text in command or text in environ:
            found.append(int(entry.name))
    return found


def test_ctrl_c_stops_every_process_it_started(tmp_path: Path) -> None:
    train_py = tmp_path / "train.py"
    train_py.write_text(
        "import os, time\nprint('scratch:' + os.environ['TMP_DIR'], flush=True)\ntime.sleep(600)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "trainer_tools.cli", "dry-run", str(train_py)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,
    )
    assert proc.stdout is not None
    root = None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if line.startswith("train | scratch:"):
            root = str(Path(line.split("scratch:", 1)[1].strip()).parent)
            break
    assert root is not None, "the trainer never started:\n" + "".join(seen)
    assert _processes_mentioning(root), "the trainer and SeaweedFS should be running now"
    os.kill(proc.pid, signal.SIGINT)
    rest = proc.communicate(timeout=60)[0]
    assert proc.returncode == 130, rest
    deadline = time.monotonic() + 10
    while _processes_mentioning(root) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _processes_mentioning(root) == []
    assert not Path(root).exists()  # the temporary folder is gone too


def test_ctrl_c_while_the_servers_start_leaves_nothing_behind(tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    train_py = tmp_path / "train.py"
    train_py.write_text("print('never reached')\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "trainer_tools.cli", "dry-run", str(train_py)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "TMPDIR": str(scratch)},  # the dry-run's temporary folder goes here
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert first.startswith("dry-run: starting S3"), first
    deadline = time.monotonic() + 20
    while not _processes_mentioning(str(scratch)) and time.monotonic() < deadline:
        time.sleep(0.05)  # until SeaweedFS is spawned (it takes seconds to become ready)
    # Not in the very instant of the spawn: an interrupt there still leaves weed's files behind
    # now and then (SeaweedServer's side, reported); here the dry-run's own cleanup is tested.
    time.sleep(0.3)
    os.kill(proc.pid, signal.SIGINT)
    rest = proc.communicate(timeout=60)[0]
    assert proc.returncode == 130, rest
    assert "never reached" not in rest
    deadline = time.monotonic() + 10
    while _processes_mentioning(str(scratch)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _processes_mentioning(str(scratch)) == []
    left = [str(p.relative_to(scratch)) for p in scratch.rglob("*")]
    assert left == [], f"{left}\n{rest}"
