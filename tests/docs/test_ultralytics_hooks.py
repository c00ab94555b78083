"""The Ultralytics example's epoch hooks, called in the order Ultralytics 8.4 calls them
(`BaseTrainer._do_train` and `final_eval`): every trained epoch is reported once, the final
evaluation of best.pt (an extra `on_fit_epoch_end`, epoch + 1, with no `on_train_epoch_end`
before it) is not, a resumed training reports its own epoch numbers, training and validation
losses keep their names, and a NaN validation loss is dropped, not raised into Ultralytics."""

from __future__ import annotations

import importlib.util
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import pytest

from trainer_sdk import TrainerSDK

ROOT = Path(__file__).resolve().parents[2]


def _example() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "ultralytics_train", ROOT / "examples" / "ultralytics" / "train.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Trainer:
    """What the hooks read of Ultralytics' `DetectionTrainer`."""

    epoch: int = 0
    lr: dict[str, float] = field(default_factory=lambda: {"lr/pg0": 0.01})
    tloss: dict[str, float] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)

    def label_loss_items(self, loss_items: dict[str, float], prefix: str) -> dict[str, float]:
        return {f"{prefix}/{k}": v for k, v in loss_items.items()}


def _epoch(trainer: Trainer, index: int, val_box_loss: float) -> None:
    trainer.epoch = index
    trainer.tloss = {"box_loss": 1.0 + index, "cls_loss": 2.0, "dfl_loss": 0.5}
    trainer.metrics = {
        "metrics/precision(B)": 0.5,
        "metrics/mAP50-95(B)": 0.25,
        "val/box_loss": val_box_loss,
        "val/cls_loss": 1.5,
        "val/dfl_loss": 0.25,
    }


@pytest.mark.parametrize("start_epoch", [0, 3])  # a fresh training, and one resumed at epoch 4
def test_the_hooks_report_each_trained_epoch_once_and_skip_the_final_evaluation(
    tmp_path: Path, start_epoch: int, caplog: pytest.LogCaptureFixture
) -> None:
    sink = tmp_path / "callbacks.jsonl"
    env = {"JOB_ID": "3", "CALLBACK_URL": sink.as_uri(), "WORK_DIR": str(tmp_path / "w")}
    sdk = TrainerSDK(env=env)
    on_train_epoch_end, on_fit_epoch_end = _example().epoch_hooks(sdk, 6, "(B)")
    trainer = Trainer()
    for index in range(start_epoch, 6):
        _epoch(trainer, index, math.nan if index == 4 else 0.75)
        on_train_epoch_end(trainer)
        on_fit_epoch_end(trainer)
    trainer.epoch += 1  # BaseTrainer.final_eval: epoch + 1, then on_fit_epoch_end alone
    on_fit_epoch_end(trainer)
    sdk.close()

    bodies = [json.loads(line)["body"] for line in sink.read_text().splitlines()]
    progress = [b for b in bodies if b.get("status") == "running"]
    assert [b["current_epoch"] for b in progress] == list(range(start_epoch + 1, 7))
    last = progress[-1]["metrics"]
    assert last["loss"] == pytest.approx(6.0 + 2.0 + 0.5)  # the training losses' sum
    extra = last["extra_metrics"]
    assert extra["box_loss"] == 6.0 and extra["val_box_loss"] == 0.75
    assert extra["val_loss"] == pytest.approx(0.75 + 1.5 + 0.25)
    assert extra["mAP50-95"] == 0.25 and extra["precision"] == 0.5
    nan_epoch = next(b for b in progress if b["current_epoch"] == 5)["metrics"]["extra_metrics"]
    assert "val_box_loss" not in nan_epoch and "val_loss" not in nan_epoch
    assert nan_epoch["val_cls_loss"] == 1.5
    assert any("'val_box_loss'" in r.getMessage() for r in caplog.records)
