"""`trainer-sdk convert`, through the CLI entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from dice_builder import write_dataset

from trainer_tools.cli import main


def dataset(tmp_path: Path) -> Path:
    doc = {
        "task_type": "detection",
        "classes": [{"id": 1, "name": "thing"}],
        "images": [
            {
                "id": n,
                "file_name": f"f{n % 2}/{n}.jpg",
                "width": 10,
                "height": 10,
                "annotations": [{"id": n, "class_id": 1, "bbox": [1, 1, 4, 4]}],
            }
            for n in range(10)
        ],
    }
    return write_dataset(tmp_path / "ds", doc)


def test_convert_prints_the_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = dataset(tmp_path)
    code = main(
        [
            "convert",
            str(root),
            "--task",
            "object_detection",
            "--train-ratio",
            "0.5",
            "--val-ratio",
            "0.3",
            "--seed",
            "7",
            "--json",
        ]
    )
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["splits"] == {"train": 5, "val": 3, "test": 2}
    assert report["objects_kept"] == 10 and report["data_yaml"] == str(root / "data.yaml")
    assert (root / "test.txt").read_text().count("\n") == 2


def test_convert_to_coco_elsewhere(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = dataset(tmp_path)
    out = tmp_path / "coco-out"
    assert main(["convert", str(root), "--to", "coco", "--output-dir", str(out)]) == 0
    assert "10/10 objects kept" in capsys.readouterr().out
    assert (out / "annotations" / "train.json").is_file()


def test_convert_bad_input_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = dataset(tmp_path)
    assert main(["convert", str(root), "--task", "keypoints"]) == 1
    assert "bad option" in capsys.readouterr().err
    (root / "annotations_detection.json").write_text('{"images": [{"id": 1}], "classes": []}')
    assert main(["convert", str(root)]) == 1
    err = capsys.readouterr().err
    assert "bad dataset" in err and "$.images[0].file_name" in err


def test_convert_names_a_class_no_folder_can_be_named_and_keeps_coco_whole(
    tmp_path: Path,
) -> None:
    """A class name with a lone surrogate (valid JSON escape, not encodable as a file name):
    the ImageFolder conversion says which class and what to do, on stderr, with exit 1; the COCO
    conversion keeps the name (as its escape)."""
    doc = {
        "task_type": "classification",
        "classes": [{"id": 0, "name": "ca\ud800t"}],
        "images": [
            {
                "id": 1,
                "file_name": "a.jpg",
                "width": 8,
                "height": 8,
                "annotations": [{"class_id": 0}],
            }
        ],
    }
    root = write_dataset(tmp_path / "ds", doc, file_name="annotations_classification.json")
    command = [sys.executable, "-m", "trainer_tools.cli", "convert", str(root)]
    failed = subprocess.run([*command, "--to", "imagefolder"], capture_output=True, text=True)
    assert failed.returncode == 1, failed.stderr
    assert "$.classes[0].name" in failed.stderr and "rename the class" in failed.stderr
    assert "Traceback" not in failed.stderr
    done = subprocess.run([*command, "--to", "coco"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    train = json.loads((root / "coco" / "annotations" / "train.json").read_bytes())
    assert train["categories"] == [{"id": 0, "name": "ca\ud800t"}]
