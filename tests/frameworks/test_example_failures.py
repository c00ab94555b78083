"""How the examples fail with the real frameworks: a model that cannot be loaded is reported as
`CheckpointError` (not `DatasetError`), with exit code 1, offline."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from framework_env import ROOT, run_offline

pytestmark = pytest.mark.frameworks


@pytest.mark.parametrize(
    ("train_py", "dataset", "model"),
    [
        ("examples/ultralytics/train.py", "examples/data", "no-such-weights.pt"),
        # A name means pretrained weights: offline, their download fails.
        ("examples/ultralytics/train.py", "examples/data", "yolo11n"),
        ("examples/timm/train.py", "classification", "no_such_architecture"),
    ],
)
def test_a_model_that_cannot_be_loaded_is_a_checkpoint_error(
    frameworks_bin: Path,
    offline_prefix: list[str],
    tmp_path: Path,
    train_py: str,
    dataset: str,
    model: str,
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    if dataset == "classification":
        sys.path.insert(0, str(ROOT / "examples" / "data"))
        try:
            import task_dataset
        finally:
            sys.path.pop(0)
        dataset = str(task_dataset.convert("classification", tmp_path / "shapes"))
    env = {"PATH": f"{frameworks_bin}{os.pathsep}/usr/bin:/bin", "HOME": str(home)}
    command = [
        "trainer-sdk", "dry-run", train_py, "--dataset", dataset, "--epochs", "1",
        "--model", model, "--env", "IMGSZ=32", "--json", "--timeout", "240",
    ]  # fmt: skip
    done = run_offline(offline_prefix, command, env, timeout=300)
    result = json.loads(done.stdout)
    assert result["exit_code"] == 1, done.stderr[-3000:]
    (failed,) = [
        e["body"] for e in result["timeline"] if e["body"] and e["body"].get("status") == "failed"
    ]
    assert failed["error_type"] == "CheckpointError", failed["error_message"]
    assert model in failed["error_message"]
    assert list(home.iterdir()) == []


@pytest.mark.parametrize(
    "train_py",
    ["examples/minimal/train.py", "examples/ultralytics/train.py", "examples/timm/train.py"],
)
def test_an_example_exits_2_when_the_backend_cannot_be_reached(
    frameworks_bin: Path, tmp_path: Path, train_py: str
) -> None:
    """The examples keep the guide's `try`/`except` style and wrap their entry call (TRL028's
    fix): with nobody listening at CALLBACK_URL the process ends with the contract's exit code 2,
    not the 1 of a training failure, and says where the undelivered reports were kept."""
    import socket
    import subprocess

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        "PATH": f"{frameworks_bin}{os.pathsep}/usr/bin:/bin",
        "HOME": str(tmp_path),
        "JOB_ID": "7",
        "CALLBACK_URL": f"http://127.0.0.1:{port}",
        "CALLBACK_MAX_RETRIES": "1",
        "CALLBACK_RETRY_DELAY": "0.05",
        "CALLBACK_TIMEOUT": "1",
        "WORK_DIR": str(tmp_path / "work"),
        "TMP_DIR": str(tmp_path / "tmp"),
    }
    done = subprocess.run(
        [str(frameworks_bin / "python"), str(ROOT / train_py), "--log-level", "INFO"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 2, done.stderr[-3000:]
    assert "kept in the outbox" in done.stderr, done.stderr[-3000:]
