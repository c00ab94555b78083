"""Bad input: every problem named with its JSON path, bad options named with their fix, and an
interrupted run that leaves the previous output whole."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from dice_builder import read_tree, write_dataset

from trainer_sdk.convert import (
    MAX_LISTED_PROBLEMS,
    InvalidDatasetError,
    conversion_run,
    convert_dataset,
    writer_process,
    yolo_labels,
)
from trainer_sdk.errors import ConfigError, DatasetError


def document(images: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "task_type": "detection",
        "classes": [{"id": 1, "name": "thing"}],
        "images": images,
        **extra,
    }


def image(n: int, file_name: str | None = None, **fields: Any) -> dict[str, Any]:
    return {
        "id": n,
        "file_name": file_name or f"{n}.jpg",
        "width": 10,
        "height": 10,
        "annotations": [{"id": n, "class_id": 1, "bbox": [1, 1, 2, 2]}],
        **fields,
    }


def paths(error: InvalidDatasetError) -> list[str]:
    return [p.path for p in error.problems]


def test_schema_problems_are_all_listed_with_paths(tmp_path: Path) -> None:
    bad = document(
        [image(1, width=0), image(2, split="training"), {"id": 3, "width": 5, "height": 5}]
    )
    root = write_dataset(tmp_path / "ds", {**bad, "images": bad["images"][:2]})
    (root / "annotations_detection.json").write_text(json.dumps(bad))
    with pytest.raises(InvalidDatasetError) as caught:
        convert_dataset(root, task_type="detection")
    assert paths(caught.value) == [
        "$.images[0].width",
        "$.images[1].split",
        "$.images[2].file_name",
    ]
    assert caught.value.total == 3
    message = str(caught.value)
    assert "annotations_detection.json is not valid DICE: 3 problem(s)" in message
    assert "$.images[1].split" in message and str(tmp_path) not in message
    assert not (root / "labels").exists()


def test_problem_list_is_capped_and_counted(tmp_path: Path) -> None:
    images = [image(n, width=-n) for n in range(1, 121)]
    root = write_dataset(tmp_path / "ds", document(images))
    with pytest.raises(InvalidDatasetError) as caught:
        convert_dataset(root, task_type="detection")
    error = caught.value
    assert error.total == 120 and len(error.problems) == MAX_LISTED_PROBLEMS
    assert paths(error)[:3] == ["$.images[0].width", "$.images[1].width", "$.images[2].width"]
    assert f"... and {120 - MAX_LISTED_PROBLEMS} more" in str(error)
    assert isinstance(error, DatasetError)


def test_semantic_problems(tmp_path: Path) -> None:
    images = [
        image(1, "../outside.jpg"),
        image(2, "/etc/passwd.jpg"),
        image(3, "a/x.jpg"),
        image(4, "a/x.png"),
        image(3, "b/y.jpg"),
        image(6, "c/z.jpg"),
    ]
    images[5]["annotations"] = [
        {"id": 1, "class_id": 9, "bbox": [0, 0, 1, 1]},
        {"id": 2, "bbox": [0, 0, 1, 1]},
    ]
    doc = document(images)
    doc["classes"].append({"id": 1, "name": "again"})
    root = tmp_path / "ds"
    root.mkdir()
    (root / "images").mkdir()
    (root / "annotations_detection.json").write_text(json.dumps(doc))
    with pytest.raises(InvalidDatasetError) as caught:
        convert_dataset(root, task_type="detection")
    listed = {p.path: p.message for p in caught.value.problems}
    assert set(listed) == {
        "$.classes[1].id",
        "$.images[0].file_name",
        "$.images[1].file_name",
        "$.images[3].file_name",
        "$.images[4].id",
    }
    assert "labels/a/x.txt cannot hold both" in listed["$.images[3].file_name"]
    # The annotation-level problems come once the file-level ones are fixed.
    doc["classes"].pop()
    doc["images"] = [images[2], images[5]]
    write_dataset(root, doc)
    with pytest.raises(InvalidDatasetError) as caught:
        convert_dataset(root, task_type="detection")
    assert paths(caught.value) == [
        "$.images[1].annotations[0].class_id",
        "$.images[1].annotations[1]",
    ]


def test_flat_layout_problems(tmp_path: Path) -> None:
    doc = {
        "categories": [{"id": 1, "name": "thing"}],
        "images": [{"id": 1, "file_name": "x.jpg", "width": 4, "height": 4}],
        "annotations": [
            {"id": 1, "image_id": 5, "category_id": 1, "bbox": [0, 0, 1, 1]},
            {"id": 2, "category_id": 1, "bbox": [0, 0, 1, 1]},
        ],
    }
    root = write_dataset(tmp_path / "ds", doc, file_name="annotations.json")
    with pytest.raises(InvalidDatasetError) as caught:
        convert_dataset(root, task_type="detection")
    assert paths(caught.value) == ["$.annotations[0].image_id", "$.annotations[1]"]


def test_nan_and_broken_json(tmp_path: Path) -> None:
    root = write_dataset(tmp_path / "ds", document([image(1)]))
    text = (
        (root / "annotations_detection.json").read_text().replace("[1, 1, 2, 2]", "[1, NaN, 2, 2]")
    )
    (root / "annotations_detection.json").write_text(text)
    with pytest.raises(InvalidDatasetError) as caught:
        convert_dataset(root, task_type="detection")
    assert set(paths(caught.value)) == {"$.images[0].annotations[0].bbox[1]"}
    assert any("not a finite number" in p.message for p in caught.value.problems)
    (root / "annotations_detection.json").write_text(text[:40])
    with pytest.raises(DatasetError, match="not valid JSON"):
        convert_dataset(root, task_type="detection")


def test_missing_things(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="does not exist"):
        convert_dataset(tmp_path / "nowhere", task_type="detection")
    root = tmp_path / "ds"
    root.mkdir()
    (root / "annotations_pose.json").write_text("{}")
    with pytest.raises(DatasetError, match=r"found annotations_pose\.json"):
        convert_dataset(root, task_type="detection")
    write_dataset(root, document([image(1)]))
    (root / "images" / "1.jpg").unlink()
    (root / "images").rmdir()
    with pytest.raises(DatasetError, match="no images/ folder"):
        convert_dataset(root, task_type="detection")
    (root / "images").mkdir()
    with pytest.raises(DatasetError, match="None of the 1 images"):
        convert_dataset(root, task_type="detection")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"task_type": "keypoints"}, "task_type is 'keypoints', which is not a task"),
        ({"target_format": "voc"}, "target_format 'voc' is not supported"),
        ({"source_format": "coco"}, "source_format 'coco' is not supported"),
        ({"split_config": {"train_ratio": 0.8, "val_ration": 0.2}}, "val_ration"),
        ({"split_config": {"train_ratio": 1.2}}, "train_ratio"),
        (
            {"split_config": {"train_ratio": 0.5, "val_ratio": 0.2, "test_ratio": 0.2}},
            "add up to 0.9",
        ),
        ({"split_config": [0.8, 0.2]}, "must be a dict"),
        ({"target_format": "imagefolder", "task_type": "detection"}, "classification layout"),
    ],
)
def test_bad_options_are_config_errors(tmp_path: Path, kwargs: dict[str, Any], match: str) -> None:
    root = write_dataset(tmp_path / "ds", document([image(1)]))
    with pytest.raises(ConfigError, match=match):
        convert_dataset(root, **kwargs)


def test_task_comes_from_the_file_or_fails_clearly(tmp_path: Path) -> None:
    doc = document([image(1)])
    root = write_dataset(tmp_path / "ds", doc, file_name="annotations.json")
    assert convert_dataset(root).report.task_type == "detection"
    del doc["task_type"]
    write_dataset(root, doc, file_name="annotations.json")
    with pytest.raises(ConfigError, match="pass task_type"):
        convert_dataset(root)


def test_interrupted_run_keeps_the_previous_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_dataset(tmp_path / "ds", document([image(n) for n in range(1, 5)]))
    convert_dataset(root, task_type="detection")
    before = read_tree(root)

    def broken(folder: str, files: list[tuple[str, bytes]], threads: int | None = None) -> None:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / files[0][0]).write_bytes(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(writer_process, "write_files", broken)
    with pytest.raises(OSError, match="No space left"):
        convert_dataset(root, task_type="detection")
    assert read_tree(root) == before
    assert not [p for p in root.iterdir() if p.name.startswith(".")]


def test_a_folder_the_converter_did_not_write_is_never_replaced(tmp_path: Path) -> None:
    root = write_dataset(tmp_path / "ds", document([image(1)]))
    (root / "labels").mkdir()
    (root / "labels" / "mine.txt").write_text("keep me")
    with pytest.raises(DatasetError, match="was not written by this converter"):
        convert_dataset(root, task_type="detection")
    assert (root / "labels" / "mine.txt").read_text() == "keep me"
    assert not (root / "data.yaml").exists()
    (root / "labels" / "mine.txt").unlink()
    (root / "labels").rmdir()
    convert_dataset(root, task_type="detection")
    convert_dataset(root, task_type="detection")  # its own output is replaced
    assert (root / "labels" / "1.txt").read_text() == "0 0.200000 0.200000 0.200000 0.200000\n"


def test_helper_process_writes_the_same_files_and_reports_failures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With USE_PROCESS on and above 1024 images, a helper process writes the label files.
    images = [image(n, f"d{n % 3}/{n}.jpg") for n in range(1, 1301)]
    root = write_dataset(tmp_path / "ds", document(images))
    monkeypatch.setattr(writer_process, "USE_PROCESS", True)
    convert_dataset(root, task_type="detection")
    by_process = read_tree(root)
    assert len([k for k in by_process if k.startswith("labels/")]) == 1300 + 1  # + the marker
    monkeypatch.setattr(writer_process, "USE_PROCESS", False)
    convert_dataset(root, task_type="detection", output_dir=tmp_path / "threads")
    assert read_tree(tmp_path / "threads") == by_process

    monkeypatch.setattr(writer_process, "USE_PROCESS", True)
    sink = writer_process.FileSink(str(tmp_path / "sink"), [f"{n}.txt" for n in range(2000)])
    with sink, pytest.raises(OSError, match="writing the label files failed: FileNotFound"):
        sink.send([("no/such/folder.txt", b"x")])
        sink.close()


def test_helper_process_writes_the_label_files_as_they_come(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Past STREAM_AFTER files the batches go to the helper as they are made, not all at the end.
    images = [image(n, f"d{n % 3}/e{n % 2}/{n}.jpg") for n in range(1, 1301)]
    root = write_dataset(tmp_path / "ds", document(images))
    monkeypatch.setattr(writer_process, "USE_PROCESS", True)
    monkeypatch.setattr(conversion_run.LabelBuffer, "STREAM_AFTER", 100)
    monkeypatch.setattr(yolo_labels, "BATCH", 64)
    sent: list[int] = []
    send = writer_process.FileSink.send

    def count_send(sink: writer_process.FileSink, files: list[tuple[str, bytes]]) -> None:
        assert sink.has_helper
        sent.append(len(files))
        send(sink, files)

    monkeypatch.setattr(writer_process.FileSink, "send", count_send)
    convert_dataset(root, task_type="detection")
    assert len(sent) > 10 and sum(sent) == 1300
    by_process = read_tree(root)
    monkeypatch.setattr(writer_process, "USE_PROCESS", False)
    monkeypatch.setattr(writer_process.FileSink, "send", send)
    convert_dataset(root, task_type="detection", output_dir=tmp_path / "threads")
    assert read_tree(tmp_path / "threads") == by_process


def test_a_label_file_that_exists_is_named_by_the_helper(tmp_path: Path) -> None:
    sink = writer_process.FileSink(str(tmp_path / "sink"), [], helper=True)
    assert sink.has_helper
    with sink, pytest.raises(FileExistsError) as caught:
        sink.send([("a.txt", b"x"), ("b.txt", b"")])
        sink.send([("a.txt", b"y")])
        sink.close()
    assert caught.value.filename == str(tmp_path / "sink" / "a.txt")
    assert (tmp_path / "sink" / "a.txt").read_bytes() == b"x"

    buffer = conversion_run.LabelBuffer(tmp_path / "labels")
    buffer.STREAM_AFTER = 0
    saved = writer_process.USE_PROCESS
    writer_process.USE_PROCESS = True
    try:
        buffer.send([("d/a.txt", b"1\n"), ("d/e/b.txt", b"")])
        buffer.send([("d/a.txt", b"2\n")])
        buffer.flush()
    finally:
        writer_process.USE_PROCESS = saved
    assert buffer.collided == ["d/a.txt"]
    assert (tmp_path / "labels" / "d" / "a.txt").read_bytes() == b"1\n"
    assert (tmp_path / "labels" / "d" / "e" / "b.txt").exists()
