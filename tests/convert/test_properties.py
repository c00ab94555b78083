"""Properties of the conversion, over generated DICE documents (see dice_strategies)."""

from __future__ import annotations

import json
import random
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dice_builder import read_tree, read_yaml, rows, to_flat, write_dataset
from dice_strategies import dice_documents
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trainer_contract.validators import validator
from trainer_sdk.convert import convert_dataset

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@contextmanager
def dataset(
    document: dict[str, Any], file_name: str = "annotations_detection.json"
) -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as tmp:
        yield write_dataset(Path(tmp) / "ds", document, file_name=file_name)


def class_index(document: dict[str, Any]) -> dict[int, int]:
    real = sorted(c["id"] for c in document["classes"] if c["name"] != "__background__")
    return {class_id: i for i, class_id in enumerate(real)}


def expected_boxes(
    document: dict[str, Any],
) -> dict[str, list[tuple[int, float, float, float, float]]]:
    """Per label file: the clipped pixel boxes that must come out (an independent model)."""
    index = class_index(document)
    out: dict[str, list[tuple[int, float, float, float, float]]] = {}
    for image in document["images"]:
        width, height = image["width"], image["height"]
        kept = []
        for ann in image["annotations"]:
            if ann["class_id"] not in index or ann.get("iscrowd"):
                continue
            x, y, w, h = ann["bbox"]
            x1, y1 = max(x, 0.0), max(y, 0.0)
            x2, y2 = min(x + w, width), min(y + h, height)
            if x2 - x1 >= 5e-7 * width and y2 - y1 >= 5e-7 * height:
                kept.append((index[ann["class_id"]], x1, y1, x2, y2))
        out[image["file_name"].rsplit(".", 1)[0] + ".txt"] = kept
    return out


@SETTINGS
@given(dice_documents("detection"))
def test_detection_rows_are_the_clipped_boxes(document: dict[str, Any]) -> None:
    with dataset(document) as root:
        result = convert_dataset(root, "dice", "yolo", task_type="detection")
        nc = read_yaml(root / "data.yaml")["nc"]
        expected = expected_boxes(document)
        total_rows = 0
        for image in document["images"]:
            width, height = image["width"], image["height"]
            label = image["file_name"].rsplit(".", 1)[0] + ".txt"
            got = rows(root / "labels" / label)
            total_rows += len(got)
            want = list(expected[label])
            assert len(got) == len(want), label
            for row in got:
                assert len(row) == 5 and all(len(v.split(".")[1]) == 6 for v in row[1:])
                cls = int(row[0])
                cx, cy, w, h = (float(v) for v in row[1:])
                assert 0 <= cls < nc
                assert all(0.0 <= v <= 1.0 for v in (cx, cy, w, h))
                box = (
                    (cx - w / 2) * width,
                    (cy - h / 2) * height,
                    (cx + w / 2) * width,
                    (cy + h / 2) * height,
                )
                match = next(
                    (
                        e
                        for e in want
                        if e[0] == cls
                        and all(
                            abs(a - b) <= 1e-6 * s
                            for a, b, s in zip(box, e[1:], (width, height) * 2, strict=True)
                        )
                    ),
                    None,
                )
                assert match is not None, (label, row, want)
                want.remove(match)
        report = result.report
        assert report.objects_kept == total_rows
        assert report.objects == sum(len(i["annotations"]) for i in document["images"])
        assert report.objects_kept + sum(report.objects_dropped.values()) == report.objects
        assert report.negatives == sum(1 for v in expected.values() if not v)


@SETTINGS
@given(dice_documents("detection"))
def test_class_map_is_a_bijection_onto_0_to_nc(document: dict[str, Any]) -> None:
    with dataset(document) as root:
        result = convert_dataset(root, "dice", "yolo", task_type="detection")
        data = read_yaml(root / "data.yaml")
        real = sorted(
            (c["id"], c["name"]) for c in document["classes"] if c["name"] != "__background__"
        )
        assert data["nc"] == len(real)
        assert data["names"] == {i: name for i, (_, name) in enumerate(real)}
        assert result.report.classes == [name for _, name in real]
        assert result.report.class_ids == [class_id for class_id, _ in real]


@SETTINGS
@given(
    dice_documents("detection"),
    st.sampled_from([(0.8, 0.2, None), (0.5, 0.3, 0.2), (1.0, 0.0, None), (0.34, 0.33, 0.33)]),
    st.integers(0, 2**31),
)
def test_splits_partition_the_images_and_keep_presets(
    document: dict[str, Any], ratios: tuple[float, float, float | None], seed: int
) -> None:
    train, val, test = ratios
    config: dict[str, Any] = {"train_ratio": train, "val_ratio": val, "seed": seed}
    if test is not None:
        config["test_ratio"] = test
    with dataset(document) as root:
        result = convert_dataset(root, "dice", "yolo", config, "detection")
        listed: dict[str, list[str]] = {}
        for split in ("train", "val", "test"):
            path = root / f"{split}.txt"
            listed[split] = path.read_text().splitlines() if path.exists() else []
        everything = [line for lines in listed.values() for line in lines]
        assert sorted(everything) == sorted(
            f"./images/{i['file_name']}" for i in document["images"]
        )
        assert len(set(everything)) == len(everything)
        for image in document["images"]:
            if image.get("split"):
                assert f"./images/{image['file_name']}" in listed[image["split"]]
        free = [i for i in document["images"] if not i.get("split")]
        preset = {s: sum(1 for i in document["images"] if i.get("split") == s) for s in listed}
        shares = {"train": train, "val": val, "test": test if test is not None else 1 - train - val}
        for split, share in shares.items():
            assert abs(len(listed[split]) - preset[split] - share * len(free)) <= 1.0 + 1e-9
        assert result.report.splits == {s: len(v) for s, v in listed.items()}


@SETTINGS
@given(dice_documents("detection"), st.randoms(use_true_random=False))
def test_output_does_not_depend_on_the_order_of_images_or_annotations(
    document: dict[str, Any], rnd: random.Random
) -> None:
    shuffled = json.loads(json.dumps(document))
    rnd.shuffle(shuffled["images"])
    rnd.shuffle(shuffled["classes"])
    for image in shuffled["images"]:
        rnd.shuffle(image["annotations"])
    with dataset(document) as first, dataset(shuffled) as second:
        convert_dataset(first, "dice", "yolo", task_type="detection")
        convert_dataset(second, "dice", "yolo", task_type="detection")
        assert read_tree(first) == read_tree(second)


@SETTINGS
@given(dice_documents("detection"))
def test_nested_and_flat_layouts_give_identical_output(document: dict[str, Any]) -> None:
    with dataset(document) as nested, dataset(to_flat(document)) as flat:
        a = convert_dataset(nested, "dice", "yolo", task_type="detection")
        b = convert_dataset(flat, "dice", "yolo", task_type="detection")
        assert read_tree(nested) == read_tree(flat)
        assert a.report.layout == "nested" and b.report.layout in ("flat", "nested")
        assert {**a.report.to_dict(), "layout": ""} == {**b.report.to_dict(), "layout": ""}


@SETTINGS
@given(dice_documents("detection"))
def test_running_twice_gives_identical_bytes(document: dict[str, Any]) -> None:
    with dataset(document) as root:
        convert_dataset(root, "dice", "yolo", task_type="detection")
        first = read_tree(root)
        convert_dataset(root, "dice", "yolo", task_type="detection")
        assert read_tree(root) == first
        assert not [p for p in root.iterdir() if p.name.startswith(".")]


@SETTINGS
@given(
    st.sampled_from(["detection", "segmentation", "pose"]).flatmap(
        lambda t: st.tuples(st.just(t), dice_documents(t))
    )
)
def test_coco_output_revalidates_and_round_trips(case: tuple[str, dict[str, Any]]) -> None:
    task, document = case
    name = f"annotations_{task}.json"
    with dataset(document, name) as root:
        convert_dataset(root, "dice", "yolo", task_type=task)
        direct = read_tree(root, skip=("images", "coco"))
        convert_dataset(root, "dice", "coco", task_type=task)
        files = sorted((root / "coco" / "annotations").glob("*.json"))
        merged: dict[str, Any] = {"images": [], "annotations": [], "categories": []}
        for path in files:
            part = json.loads(path.read_text())
            assert validator("dice/annotations").errors(part) == []
            merged["images"] += part["images"]
            merged["annotations"] += part["annotations"]
            merged["categories"] = part["categories"]
        merged["task_type"] = task
        again = root.parent / "again"
        again.mkdir()
        (again / "annotations.json").write_text(json.dumps(merged))
        (again / "images").symlink_to(root / "images")
        convert_dataset(again, "dice", "yolo", task_type=task)
        back = read_tree(again)
        assert back == direct
        # COCO -> COCO is a fixed point.
        convert_dataset(again, "dice", "coco", task_type=task)
        for path in files:
            first = json.loads(path.read_text())
            second = json.loads((again / "coco" / "annotations" / path.name).read_text())
            assert {**second, "info": None} == {**first, "info": None}


@SETTINGS
@given(dice_documents("segmentation"))
def test_polygon_coordinates_stay_in_range(document: dict[str, Any]) -> None:
    with dataset(document, "annotations_segmentation.json") as root:
        result = convert_dataset(root, "dice", "yolo", task_type="segmentation")
        count = 0
        for label in (root / "labels").rglob("*.txt"):
            for row in rows(label):
                count += 1
                values = [float(v) for v in row[1:]]
                assert len(values) >= 6 and len(values) % 2 == 0
                assert all(0.0 <= v <= 1.0 for v in values)
        assert count == result.report.objects_kept


@SETTINGS
@given(dice_documents("pose", keypoints=3))
def test_keypoints_stay_in_range_and_keep_visibility(document: dict[str, Any]) -> None:
    with dataset(document, "annotations_pose.json") as root:
        result = convert_dataset(root, "dice", "yolo", task_type="pose")
        assert read_yaml(root / "data.yaml")["kpt_shape"] == [3, 3]
        count = 0
        for label in (root / "labels").rglob("*.txt"):
            for row in rows(label):
                count += 1
                assert len(row) == 5 + 3 * 3
                values = [float(v) for v in row[1:]]
                assert all(0.0 <= v <= 1.0 for v in values[:4])
                for i in range(4, len(values), 3):
                    x, y, v = values[i : i + 3]
                    assert 0.0 <= x <= 1.0 and 0.0 <= y <= 1.0 and v in (0, 1, 2)
                    if v == 0:
                        assert x == 0 and y == 0
        assert count == result.report.objects_kept
