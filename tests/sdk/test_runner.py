"""`run(main)`: exit codes and failure reports (file:// sink, no network)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from trainer_sdk import DatasetError, ErrorType, TrainerSDK, run


@pytest.fixture
def sink(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[], list[dict[str, Any]]]:
    """Point the process environment at a file sink; returns a reader of what was sent."""
    target = tmp_path / "callbacks.jsonl"
    environ = {
        "JOB_ID": "21",
        "CALLBACK_URL": target.as_uri(),
        "WORK_DIR": str(tmp_path / "w"),
        "EPOCHS": "3",
    }
    monkeypatch.setattr(os, "environ", environ)
    monkeypatch.chdir(tmp_path)  # no stray .env

    def read() -> list[dict[str, Any]]:
        if not target.exists():
            return []
        return [json.loads(line) for line in target.read_text().splitlines()]

    return read


def _failure(records: list[dict[str, Any]]) -> dict[str, Any]:
    (failed,) = [r["body"] for r in records if r["body"].get("status") == "failed"]
    return failed


def test_success_exits_0(sink: Callable[[], list[dict[str, Any]]]) -> None:
    def main(sdk: TrainerSDK) -> None:
        sdk.report_started("training")
        sdk.report_progress(1, 3, {"loss": 0.3})
        sdk.report_completed({"loss": 0.3})

    assert run(main, exit=False) == 0
    assert [r["endpoint"] for r in sink()] == [
        "training_progress",
        "training_progress",
        "training_completion",
    ]


def test_run_exits_the_process_by_default(sink: Callable[[], list[dict[str, Any]]]) -> None:
    def main(sdk: TrainerSDK) -> None:
        raise DatasetError("annotations.json is missing")

    with pytest.raises(SystemExit) as info:
        run(main)
    assert info.value.code == 1


@pytest.mark.parametrize(
    ("exc", "wire"),
    [
        (MemoryError("out of host memory"), "ResourceError"),
        (RuntimeError("CUDA out of memory. Tried to allocate 20.00 MiB"), "ResourceError"),
        (DatasetError("annotations.json is missing"), "DatasetError"),
        (ValueError("bad shape"), "UnknownError"),
    ],
)
def test_exceptions_are_reported_with_their_error_type_and_exit_1(
    sink: Callable[[], list[dict[str, Any]]], exc: BaseException, wire: str
) -> None:
    def main(sdk: TrainerSDK) -> None:
        sdk.report_started("training")
        sdk.report_progress(2, 3, {"loss": 0.3})
        raise exc

    assert run(main, exit=False) == 1
    failed = _failure(sink())
    assert failed["error_type"] == wire
    assert failed["error_message"].startswith(f"[{wire}] {type(exc).__name__}: ")
    assert "Traceback" in failed["traceback"] and failed["total_epochs_completed"] == 2


def test_main_without_argument_that_closes_its_own_sdk_still_gets_its_failure_reported(
    sink: Callable[[], list[dict[str, Any]]],
) -> None:
    def main() -> int:
        sdk = TrainerSDK()
        try:
            sdk.report_started("training")
            raise MemoryError("boom")
        finally:
            sdk.close()

    assert run(main, exit=False) == 1
    assert _failure(sink())["error_type"] == ErrorType.RESOURCE_ERROR


def test_guide_style_main_returning_1_is_not_reported_twice(
    sink: Callable[[], list[dict[str, Any]]],
) -> None:
    def main() -> int:
        sdk = TrainerSDK()
        try:
            raise ValueError("x")
        except Exception as e:
            sdk.report_failed(ErrorType.TRAINING_ERROR, str(e), "tb")
            return 1
        finally:
            sdk.close()

    assert run(main, exit=False) == 1
    assert _failure(sink())["error_message"] == "[UnknownError] x"


def test_nonzero_return_without_a_report_is_reported(
    sink: Callable[[], list[dict[str, Any]]],
) -> None:
    def main(sdk: TrainerSDK) -> int:
        return 1

    assert run(main, exit=False) == 1
    assert "returned exit code 1" in _failure(sink())["error_message"]


def test_config_error_before_any_sdk_exits_1_with_a_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(os, "environ", {"EPOCHS": "x"})
    monkeypatch.chdir(tmp_path)

    def main(sdk: TrainerSDK) -> None:
        raise AssertionError("never reached")

    assert run(main, exit=False) == 1
    err = capsys.readouterr().err
    assert "JOB_ID" in err and "CALLBACK_URL" in err and "EPOCHS" in err


def test_sigterm_is_reported_as_a_failure(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys

    script = tmp_path / "train.py"
    script.write_text(
        "import time\n"
        "from trainer_sdk import run\n"
        "def main(sdk):\n"
        "    sdk.report_started('training', total_epochs=3)\n"
        "    print('ready', flush=True)\n"
        "    time.sleep(30)\n"
        "run(main)\n"
    )
    target = tmp_path / "callbacks.jsonl"
    env = {
        **os.environ,
        "JOB_ID": "22",
        "CALLBACK_URL": target.as_uri(),
        "WORK_DIR": str(tmp_path / "w"),
    }
    process = subprocess.Popen(
        [sys.executable, str(script)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"
    process.send_signal(signal.SIGTERM)
    code = process.wait(timeout=20)
    assert code == 1, process.stderr.read() if process.stderr else ""
    bodies = [json.loads(line)["body"] for line in target.read_text().splitlines()]
    assert bodies[-1]["status"] == "failed"
    assert "Terminated: received signal SIGTERM" in bodies[-1]["error_message"]


def test_a_nan_loss_reported_from_a_framework_callback_fails_the_job_as_a_validation_error(
    sink: Callable[[], list[dict[str, Any]]],
) -> None:
    """A framework calls the trainer's hook; the hook reports a diverged loss; run() reports a
    ValidationError and exits 1. A NaN optional metric in the same run is only dropped."""

    def on_epoch_end(sdk: TrainerSDK, epoch: int, loss: float) -> None:
        sdk.report_progress(epoch, 3, {"loss": loss, "seg_loss": float("nan")})

    def main(sdk: TrainerSDK) -> None:
        sdk.report_started("training")
        on_epoch_end(sdk, 1, 0.5)
        on_epoch_end(sdk, 2, float("inf"))
        sdk.report_completed({"loss": 0.3})

    assert run(main, exit=False) == 1
    records = sink()
    progress = [r["body"] for r in records if r["endpoint"] == "training_progress"]
    assert [p["current_epoch"] for p in progress] == [0, 1]
    assert progress[1]["metrics"]["extra_metrics"] == {"loss": 0.5}
    failed = _failure(records)
    assert failed["error_type"] == "ValidationError"
    assert failed["error_message"].startswith("[ValidationError] NonFiniteMetricError: ")
    assert "loss=inf" in failed["error_message"] and failed["total_epochs_completed"] == 1
