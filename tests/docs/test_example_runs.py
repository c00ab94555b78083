"""examples/ultralytics/train.py keeps the contract end to end (dry-run: reference backend and a
real S3 server), with a stand-in for Ultralytics (tests/docs/fake_frameworks) instead of torch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FAKES = Path(__file__).resolve().parent / "fake_frameworks"


def test_the_ultralytics_example_passes_a_dry_run() -> None:
    done = subprocess.run(
        [
            sys.executable, "-m", "trainer_tools.cli", "dry-run", "examples/ultralytics/train.py",
            "--dataset", "examples/data", "--epochs", "3", "--env", f"PYTHONPATH={FAKES}",
            "--json", "--timeout", "120",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    verdict = json.loads(done.stdout)
    assert verdict["ok"] is True and verdict["exit_code"] == 0
    checks = {check["name"]: check for check in verdict["checks"]}
    assert all(check["ok"] for check in checks.values()), checks
    assert "confusion_matrix.png" in checks["checkpoints_exist"]["summary"]
    text = json.dumps(verdict["timeline"])
    # Every epoch was reported with the metrics under the platform's names, and the plots and
    # both checkpoints were uploaded.
    for needle in ('"mAP50-95"', '"current_epoch": 3', "best.pt", "last.pt", "confusion_matrix"):
        assert needle in text, needle
