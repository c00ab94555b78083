"""Conversion edges from the adversarial review: hostile file names, empty exports, huge values
in error messages, and runs killed in the middle (through the CLI, in subprocesses)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from trainer_sdk.convert import InvalidDatasetError, convert_dataset
from trainer_sdk.convert.staging import PREFIX
from trainer_sdk.errors import DatasetError

CLI = [sys.executable, "-m", "trainer_tools.cli", "convert"]


def write(root: Path, images: list[dict[str, Any]], *, files: bool = True) -> Path:
    doc = {"task_type": "detection", "classes": [{"id": 1, "name": "thing"}], "images": images}
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "annotations_detection.json").write_text(json.dumps(doc), encoding="utf-8")
    if files:
        for image in images:
            name = image["file_name"]
            if "\n" in name or "\r" in name or "\x00" in name:
                continue
            path = root / "images" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"\xff\xd8\xff\xd9")
    return root


def image(n: int, name: str | None = None) -> dict[str, Any]:
    return {
        "id": n,
        "file_name": name or f"f{n % 7}/{n:06d}.jpg",
        "width": 100,
        "height": 100,
        "annotations": [{"id": n, "class_id": 1, "bbox": [10, 10, 20, 20]}],
    }


@pytest.mark.parametrize("bad", ["a\nb.jpg", "x/evil.jpg\n./images/other.jpg", "tab\there.jpg"])
def test_control_characters_in_file_name_are_refused_with_the_path(
    tmp_path: Path, bad: str
) -> None:
    root = write(tmp_path / "ds", [image(0), image(1, bad)])
    run = subprocess.run([*CLI, str(root), "--task", "detection"], capture_output=True, text=True)
    assert run.returncode != 0
    assert "$.images[1].file_name" in run.stderr
    assert "control characters" in run.stderr
    assert not (root / "train.txt").exists() and not (root / "labels").exists()


def test_no_images_is_an_error(tmp_path: Path) -> None:
    root = write(tmp_path / "ds", [])
    run = subprocess.run([*CLI, str(root), "--task", "detection"], capture_output=True, text=True)
    assert run.returncode != 0
    assert "lists no images" in run.stderr
    assert not (root / "data.yaml").exists()


def test_error_messages_quote_little_of_the_input(tmp_path: Path) -> None:
    huge = "x" * 200_000
    images = [
        image(0, "/" + huge + ".jpg"),  # an absolute path: quoted in the message
        {**image(1), "width": huge},  # a schema error whose message holds the value
        {**image(2), huge: 1},  # an unknown property: its name is in the path
    ]
    root = write(tmp_path / "ds", images, files=False)
    with pytest.raises(InvalidDatasetError) as caught:
        convert_dataset(root, task_type="detection")
    assert caught.value.total >= 1
    assert len(str(caught.value)) < 2_000
    for problem in caught.value.problems:
        assert len(problem.path) <= 200 and len(problem.message) <= 300
    # The file-level check quotes the name, cut as well.
    root2 = write(tmp_path / "ds2", [image(0, "../" + huge + ".jpg")], files=False)
    with pytest.raises(InvalidDatasetError) as caught:
        convert_dataset(root2, task_type="detection")
    assert "$.images[0].file_name" in str(caught.value)
    assert len(str(caught.value)) < 2_000
    broken = tmp_path / "ds3"
    broken.mkdir()
    (broken / "annotations_detection.json").write_text('{"images": [' + '"' + huge, "utf-8")
    with pytest.raises(DatasetError) as not_json:
        convert_dataset(broken, task_type="detection")
    assert len(str(not_json.value)) < 500


def test_staging_folders_of_killed_runs_are_cleaned_on_the_next_run(tmp_path: Path) -> None:
    root = write(tmp_path / "ds", [image(n) for n in range(60_000)])
    out = tmp_path / "out"
    process = subprocess.Popen(
        [*CLI, str(root), "--task", "detection", "--output-dir", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            if out.is_dir() and any(p.name.startswith(PREFIX) for p in out.iterdir()):
                break
            time.sleep(0.01)
        assert process.poll() is None, "the conversion ended before it could be killed"
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait()
    assert process.returncode == -signal.SIGKILL
    leftovers = [p.name for p in out.iterdir() if p.name.startswith(PREFIX)]
    assert leftovers, "the killed run left no staging folder: nothing was tested"
    assert not (out / "data.yaml").exists()
    run = subprocess.run(
        [*CLI, str(root), "--task", "detection", "--output-dir", str(out)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert (out / "data.yaml").is_file()
    assert not [p.name for p in out.iterdir() if p.name.startswith(PREFIX)]


def test_a_live_runs_staging_folder_is_left_alone(tmp_path: Path) -> None:
    from trainer_sdk.convert.staging import Staging

    out = tmp_path / "out"
    with Staging(out) as live:
        root = write(tmp_path / "ds", [image(n) for n in range(5)])
        convert_dataset(root, task_type="detection", output_dir=out)
        assert live.root.is_dir()
    assert not live.root.exists()
