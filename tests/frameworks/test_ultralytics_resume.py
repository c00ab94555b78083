"""The Ultralytics example's epoch hooks in a real training that is interrupted and resumed
(`YOLO(last.pt).train(resume=True)`): the resumed run reports its own epochs, every epoch is
reported once, the extra `on_fit_epoch_end` of the final evaluation never becomes a progress
report, and every report is valid for the backend (never past `total_epochs`)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from framework_env import ROOT

pytestmark = pytest.mark.frameworks

SCRIPT = r"""
import importlib.util, json, shutil, sys
from pathlib import Path

root, sink = Path(sys.argv[1]), Path(sys.argv[2])
spec = importlib.util.spec_from_file_location("example", sys.argv[3])
example = importlib.util.module_from_spec(spec)
spec.loader.exec_module(example)
example.offline_ultralytics()
from ultralytics import YOLO
from trainer_sdk import TrainerSDK
from trainer_sdk.convert import convert_dataset

data = convert_dataset(root, "dice", "yolo", task_type="detection").data_yaml
env = {"JOB_ID": "5", "CALLBACK_URL": sink.as_uri(), "WORK_DIR": str(root / "w")}
settings = dict(data=str(data), epochs=3, imgsz=32, batch=8, workers=0, device="cpu",
                project=str(root / "runs"), name="train", exist_ok=True, plots=False)

class Interrupted(Exception):
    pass

def interrupt(trainer):
    if trainer.epoch == 1:  # epoch 2 starts: epoch 1 is saved and reported
        raise Interrupted("the pod was stopped during epoch 2")

sdk = TrainerSDK(env=env)
sdk.report_started("training", total_epochs=3)
model = YOLO("yolo11n.yaml")
for event, hook in zip(("on_train_epoch_end", "on_fit_epoch_end"), example.epoch_hooks(sdk, 3, "(B)")):
    model.add_callback(event, hook)
model.add_callback("on_train_epoch_start", interrupt)
try:
    model.train(**settings)
except Interrupted:
    pass
sdk.close()

# A new process in real life: a new SDK, Ultralytics resuming from last.pt.
sdk = TrainerSDK(env=env)
last = root / "runs" / "train" / "weights" / "last.pt"
model = YOLO(str(last))
for event, hook in zip(("on_train_epoch_end", "on_fit_epoch_end"), example.epoch_hooks(sdk, 3, "(B)")):
    model.add_callback(event, hook)
model.train(resume=True)
sdk.close()
"""


def test_an_interrupted_and_resumed_training_reports_every_epoch_once(
    frameworks_bin: Path, tmp_path: Path
) -> None:
    root = tmp_path / "dataset"
    source = ROOT / "examples" / "data"
    root.mkdir()
    for name in ("annotations_detection.json", "metadata.json"):
        (root / name).write_bytes((source / name).read_bytes())
    (root / "images").symlink_to(source / "images", target_is_directory=True)
    sink = tmp_path / "callbacks.jsonl"
    done = subprocess.run(
        [
            str(frameworks_bin / "python"), "-c", SCRIPT, str(root), str(sink),
            str(ROOT / "examples" / "ultralytics" / "train.py"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={"TMP_DIR": str(tmp_path / "tmp"), "HOME": str(tmp_path)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    bodies = [json.loads(line)["body"] for line in sink.read_text().splitlines()]
    progress = [b for b in bodies if b.get("status") == "running"]
    assert [b["current_epoch"] for b in progress] == [0, 1, 2, 3]
    assert all(b["total_epochs"] == 3 for b in progress)
    for body in progress[1:]:
        assert {"box_loss", "val_box_loss", "mAP50-95"} <= set(body["metrics"]["extra_metrics"])
