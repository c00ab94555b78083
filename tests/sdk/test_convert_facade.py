"""`sdk.convert_dataset`: TASK_TYPE as the default task, output_dir passed through, report logged."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from sdk_recording_backend import RecordingBackend

from trainer_sdk import TrainerSDK

DATASET = Path(__file__).resolve().parents[2] / "examples" / "data"


def test_convert_uses_task_type_writes_to_output_dir_and_logs_the_report(
    make_sdk: Callable[..., TrainerSDK], backend: RecordingBackend, tmp_path: Path
) -> None:
    dataset = tmp_path / "dataset"
    shutil.copytree(DATASET, dataset)
    before = sorted(p.relative_to(dataset).as_posix() for p in dataset.rglob("*"))
    out = tmp_path / "yolo"
    sdk = make_sdk(extra_env={"TASK_TYPE": "object_detection"})
    result = sdk.convert_dataset(str(dataset), "dice", "yolo", None, None, str(out))
    assert Path(result.output_dir) == out
    assert (out / "data.yaml").is_file()
    assert result.report.to_dict()["images"] > 0
    # The dataset folder is untouched when the output goes elsewhere.
    assert sorted(p.relative_to(dataset).as_posix() for p in dataset.rglob("*")) == before
    sdk.flush_logs()
    events = [b for b in backend.bodies("/callback/logs") if b["event_type"] == "convert"]
    assert len(events) == 1 and "yolo" in events[0]["message"]
