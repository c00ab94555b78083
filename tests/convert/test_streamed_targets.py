"""COCO, ImageFolder and YOLO classification are made as the file is read (bounded memory): the
streamed output is the same, byte for byte, as the conversion of the whole document in memory
(`conversion_run.STREAM_EVERY_TARGET = False`), and so are the reports and the errors."""

from __future__ import annotations

import json
import os
import random
import tempfile
from pathlib import Path
from typing import Any

import pytest
from dice_builder import to_flat, write_dataset
from dice_strategies import dice_documents
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trainer_sdk.convert import (
    api,
    classification,
    conversion_run,
    convert_dataset,
    dice_reader,
    json_stream,
)
from trainer_sdk.errors import DatasetError

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TARGETS = {
    "detection": ("coco",),
    "segmentation": ("coco",),
    "pose": ("coco",),
    "classification": ("coco", "imagefolder", "yolo"),
}


def output_tree(root: Path) -> dict[str, Any]:
    """Every entry under `root` but the dataset's own (images, annotation file): files by
    content (links by what they are and point at), folders by name."""
    out: dict[str, Any] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if rel.split("/")[0] == "images" or (rel.startswith("annotations_") and "/" not in rel):
            continue
        if path.is_symlink():
            out[rel] = ("symlink", os.readlink(path))
        elif path.is_dir():
            out[rel] = "folder"
        else:  # a class folder's image is a hard link
            out[rel] = (path.stat().st_nlink > 1, path.read_bytes())
    return out


def run(
    root: Path, target: str, task: str, split: dict[str, Any] | None, stream: bool
) -> tuple[Any, ...]:
    """(output tree, report) of one conversion, or (error type, message) when it fails."""
    saved = conversion_run.STREAM_EVERY_TARGET
    conversion_run.STREAM_EVERY_TARGET = stream
    try:
        result = convert_dataset(root, "dice", target, split, task_type=task)
    except DatasetError as error:
        return type(error).__name__, str(error)
    finally:
        conversion_run.STREAM_EVERY_TARGET = saved
    return output_tree(root), result.report.to_dict(), result.data_yaml is None


def both_ways(
    tmp: Path, document: dict[str, Any], target: str, split: dict[str, Any] | None, **kw: Any
) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    task = document["task_type"]
    kw["file_name"] = f"annotations_{task}.json"
    streamed = run(
        write_dataset(tmp / "streamed" / "ds", document, **kw), target, task, split, True
    )
    in_memory = run(
        write_dataset(tmp / "memory" / "ds", document, **kw), target, task, split, False
    )
    return streamed, in_memory


@st.composite
def cases(draw: st.DrawFn) -> tuple[str, dict[str, Any], str]:
    task = draw(st.sampled_from(sorted(TARGETS)))
    document = draw(dice_documents(task))
    return task, document, draw(st.sampled_from(TARGETS[task]))


@SETTINGS
@given(
    cases(),
    st.booleans(),
    st.sampled_from([None, {"train_ratio": 0.5, "val_ratio": 0.25, "seed": 7}]),
    st.randoms(use_true_random=False),
)
def test_streamed_targets_equal_the_conversion_in_memory(
    case: tuple[str, dict[str, Any], str],
    flat: bool,
    split: dict[str, Any] | None,
    rnd: random.Random,
) -> None:
    _, document, target = case
    names = [image["file_name"] for image in document["images"]]
    missing = frozenset(name for name in names if rnd.random() < 0.2)
    if flat:
        document = to_flat(document)
    with tempfile.TemporaryDirectory() as tmp:
        streamed, in_memory = both_ways(Path(tmp), document, target, split, missing=missing)
    assert streamed == in_memory
    if not missing:
        assert isinstance(streamed[0], dict), streamed


def many_images(count: int, task: str) -> dict[str, Any]:
    rnd = random.Random(11)
    images = []
    for n in range(count):
        anns: list[dict[str, Any]] = []
        for k in range(rnd.randint(0, 3)):
            ann: dict[str, Any] = {"id": n * 10 + k, "class_id": rnd.choice([1, 2, 7])}
            if task == "detection":
                ann["bbox"] = [rnd.uniform(-5, 90), rnd.uniform(-5, 70), rnd.uniform(0, 40), 9.5]
                ann["iscrowd"] = int(rnd.random() < 0.05)
            anns.append(ann)
        image = {"id": n, "file_name": f"d{n % 5}/{n}.jpg", "width": 100, "height": 80}
        split = rnd.choice([None, None, "val", "test"])
        if split:
            image["split"] = split
        images.append({**image, "annotations": anns})
    return {
        "task_type": task,
        "classes": [{"id": 7, "name": "c"}, {"id": 1, "name": "a"}, {"id": 2, "name": "b"}],
        "images": images,
    }


@pytest.mark.parametrize(
    ("task", "target"),
    [("detection", "coco"), ("classification", "imagefolder"), ("classification", "yolo")],
)
def test_many_images_in_small_batches_stream_to_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, task: str, target: str
) -> None:
    # Many reader batches, link batches and (flat) spilled groups: still the same output.
    monkeypatch.setattr(json_stream, "CHUNK", 512)
    monkeypatch.setattr(classification.ClassFolders, "LINK_BATCH", 7)
    monkeypatch.setattr(dice_reader, "SPILL_RECORDS", 37)
    monkeypatch.setattr(dice_reader, "BUCKETS", 5)

    def in_memory_only(*args: Any) -> Any:
        raise AssertionError("the streamed conversion converted the whole document in memory")

    document = many_images(700, task)
    # Annotations after the images, classes first: converted as read, then started again.
    late = {
        "classes": document["classes"],
        "task_type": task,
        "images": [{**i, "annotations": []} for i in document["images"]],
        "annotations": [
            {**a, "image_id": i["id"]} for i in document["images"] for a in i["annotations"]
        ],
    }
    for name, doc in (("nested", document), ("flat", to_flat(document)), ("late", late)):
        file_name = f"annotations_{task}.json"
        streamed_root = write_dataset(tmp_path / name / "streamed" / "ds", doc, file_name=file_name)
        with monkeypatch.context() as patch:
            patch.setattr(api, "_convert", in_memory_only)
            streamed = run(streamed_root, target, task, None, True)
        in_memory = run(
            write_dataset(tmp_path / name / "memory" / "ds", doc, file_name=file_name),
            target,
            task,
            None,
            False,
        )
        assert streamed == in_memory
        assert isinstance(streamed[0], dict), streamed
        report = streamed[1]
        assert report["images_converted"] == 700 and report["objects_kept"] > 500, report
        assert not [p for p in streamed_root.iterdir() if p.name.startswith(".trainer-sdk")]


def test_an_invalid_object_stops_the_streamed_conversion_before_any_output(tmp_path: Path) -> None:
    document = many_images(300, "detection")
    document["images"][250]["annotations"] = [{"id": 1, "class_id": 99, "bbox": [1, 2, 3, 4]}]
    streamed, in_memory = both_ways(tmp_path, document, "coco", None)
    assert streamed == in_memory
    assert streamed[0] == "InvalidDatasetError"
    assert "$.images[250].annotations[0].class_id" in streamed[1]
    assert not (tmp_path / "streamed" / "ds" / "coco" / "annotations").exists()


def lone_surrogate_document(task: str) -> dict[str, Any]:
    """A class named with a lone surrogate (`"ca\\ud800t"` in the file: valid JSON, which
    Python reads as a str UTF-8 cannot encode)."""
    ann: dict[str, Any] = {"class_id": 0}
    if task == "detection":
        ann["bbox"] = [1, 1, 4, 4]
    image = {"id": 1, "file_name": "a.jpg", "width": 10, "height": 10, "annotations": [ann]}
    return {"task_type": task, "classes": [{"id": 0, "name": "ca\ud800t"}], "images": [image]}


def test_a_lone_surrogate_in_a_name_reaches_the_coco_file_as_its_escape(tmp_path: Path) -> None:
    document = lone_surrogate_document("detection")
    streamed, in_memory = both_ways(tmp_path, document, "coco", None)
    assert streamed == in_memory
    text = streamed[0]["coco/annotations/train.json"][1]
    assert b'"name":"ca\\ud800t"' in text
    assert json.loads(text)["categories"] == [{"id": 0, "name": "ca\ud800t"}]


def test_a_lone_surrogate_in_a_class_folder_name_is_a_named_problem(tmp_path: Path) -> None:
    document = lone_surrogate_document("classification")
    streamed, in_memory = both_ways(tmp_path, document, "imagefolder", None)
    assert streamed == in_memory
    kind, message = streamed
    assert kind == "InvalidDatasetError"
    assert "$.classes[0].name" in message and "lone surrogate" in message
    assert "rename the class" in message
