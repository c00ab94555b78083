"""Hand-checked conversions of small datasets, one per task and target."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from dice_builder import read_yaml, rows, write_dataset

from trainer_sdk.convert import ConversionResult, convert_dataset

CLASSES = [
    {"id": 0, "name": "__background__"},
    {"id": 7, "name": "car"},
    {"id": 2, "name": "person"},
]


def detection_document() -> dict[str, Any]:
    return {
        "format_version": "1.0",
        "task_type": "object_detection",
        "classes": CLASSES,
        "images": [
            {
                "id": 1,
                "file_name": "a/x.jpg",
                "width": 100,
                "height": 50,
                "split": "val",
                "annotations": [
                    {"id": 1, "class_id": 2, "bbox": [-10, 10, 30, 20]},  # clipped on the left
                    {"id": 2, "class_id": 7, "bbox": [90, 40, 20, 20]},  # clipped right, bottom
                    {"id": 3, "class_id": 0, "bbox": [1, 1, 2, 2]},  # background
                    {"id": 4, "class_id": 2, "bbox": [1, 1, 2, 2], "iscrowd": 1},
                    {"id": 5, "class_id": 2, "bbox": [100, 10, 5, 5]},  # outside: nothing left
                    {"id": 6, "class_id": 2, "bbox": [10, 10, 0, 5]},  # zero width
                ],
            },
            {"id": 2, "file_name": "b/x.jpg", "width": 100, "height": 50, "annotations": []},
            {
                "id": 3,
                "file_name": "c.png",
                "width": 200,
                "height": 100,
                "annotations": [{"id": 9, "class_id": 7, "bbox": [50, 25, 100, 50]}],
            },
            {
                "id": 4,
                "file_name": "gone.jpg",
                "width": 10,
                "height": 10,
                "annotations": [{"id": 10, "class_id": 7, "bbox": [0, 0, 5, 5]}],
            },
        ],
    }


def test_detection_example(tmp_path: Path) -> None:
    root = write_dataset(tmp_path / "ds", detection_document(), missing=frozenset({"gone.jpg"}))
    result = convert_dataset(root, "dice", "yolo", {"train_ratio": 1.0, "val_ratio": 0.0})
    assert isinstance(result, ConversionResult) and os.fspath(result) == str(root)
    # person (id 2) -> 0, car (id 7) -> 1; rows sorted.
    assert (root / "labels/a/x.txt").read_text() == (
        "0 0.100000 0.400000 0.200000 0.400000\n1 0.950000 0.900000 0.100000 0.200000\n"
    )
    assert (root / "labels/b/x.txt").read_text() == ""
    assert (root / "labels/c.txt").read_text() == "1 0.500000 0.500000 0.500000 0.500000\n"
    assert not (root / "labels/gone.txt").exists()
    assert (root / "train.txt").read_text() == "./images/b/x.jpg\n./images/c.png\n"
    assert (root / "val.txt").read_text() == "./images/a/x.jpg\n"
    assert not (root / "test.txt").exists()
    data = read_yaml(root / "data.yaml")
    assert data == {
        "path": str(root.resolve()),
        "train": "train.txt",
        "val": "val.txt",
        "nc": 2,
        "names": {0: "person", 1: "car"},
    }
    assert result.data_yaml == str(root / "data.yaml")
    report = result.report.to_dict()
    assert report["task_type"] == "detection"
    assert report["objects"] == 8 and report["objects_kept"] == 3
    assert report["objects_dropped"] == {
        "background_class": 1,
        "crowd": 1,
        "missing_image": 1,
        "zero_area": 2,
    }
    assert report["adjustments"] == {"boxes_clipped": 2}
    assert report["images"] == 4 and report["images_converted"] == 3
    assert report["images_missing"] == 1 and report["missing_image_examples"] == ["gone.jpg"]
    assert report["negatives"] == 1
    assert report["splits"] == {"train": 2, "val": 1, "test": 0}
    assert json.loads(result.report.to_json()) == report


def test_output_dir_elsewhere_leaves_the_dataset_alone(tmp_path: Path) -> None:
    root = write_dataset(tmp_path / "ds", detection_document(), missing=frozenset({"gone.jpg"}))
    before = sorted(p.name for p in root.iterdir())
    out = tmp_path / "out"
    result = convert_dataset(root, "dice", "yolo", task_type="detection", output_dir=out)
    assert sorted(p.name for p in root.iterdir()) == before
    assert (out / "images").is_symlink()
    assert (out / "images" / "a" / "x.jpg").read_bytes() == (root / "images/a/x.jpg").read_bytes()
    assert (out / "labels/c.txt").read_text() == "1 0.500000 0.500000 0.500000 0.500000\n"
    assert read_yaml(out / "data.yaml")["path"] == str(out.resolve())
    assert result.output_dir == str(out)


def test_segmentation_example(tmp_path: Path) -> None:
    document = {
        "task_type": "segmentation",
        "classes": [{"id": 1, "name": "blob"}],
        "images": [
            {
                "id": 1,
                "file_name": "s.jpg",
                "width": 10,
                "height": 10,
                "annotations": [
                    # Two squares, joined at their closest corners (2,2)-(5,5).
                    {
                        "id": 1,
                        "class_id": 1,
                        "segmentation": [[0, 0, 2, 0, 2, 2, 0, 2], [5, 5, 7, 5, 7, 7]],
                    },
                    # One polygon past the right edge: clamped to x = 10.
                    {"id": 2, "class_id": 1, "segmentation": [[8, 0, 12, 0, 12, 4]]},
                    {
                        "id": 3,
                        "class_id": 1,
                        "iscrowd": 1,
                        "segmentation": {"counts": [0, 100], "size": [10, 10]},
                    },
                    {
                        "id": 4,
                        "class_id": 1,
                        "segmentation": {"counts": [0, 100], "size": [10, 10]},
                    },
                    {"id": 5, "class_id": 1, "bbox": [0, 0, 1, 1]},
                    {"id": 6, "class_id": 1, "segmentation": [[20, 20, 30, 20, 30, 30]]},
                ],
            }
        ],
    }
    root = write_dataset(tmp_path / "ds", document, file_name="annotations_segmentation.json")
    result = convert_dataset(root, "dice", "yolo", task_type="instance_segmentation")
    got = rows(root / "labels/s.txt")
    merged = [
        # square 1 walked from its link corner (2,2) round and back, bridge to (5,5),
        # square 2 walked round from (5,5) and back; the row closes back to (2,2).
        (0.2, 0.2),
        (0.0, 0.2),
        (0.0, 0.0),
        (0.2, 0.0),
        (0.2, 0.2),
        (0.5, 0.5),
        (0.7, 0.5),
        (0.7, 0.7),
        (0.5, 0.5),
    ]
    clamped = [(0.8, 0.0), (1.0, 0.0), (1.0, 0.4)]
    expected = sorted(
        [
            ["0", *[f"{v:.6f}" for point in merged for v in point]],
            ["0", *[f"{v:.6f}" for point in clamped for v in point]],
        ]
    )
    assert sorted(got) == expected
    assert result.report.objects_dropped == {
        "crowd": 1,
        "missing_segmentation": 1,
        "rle_mask": 1,
        "zero_area": 1,
    }
    assert result.report.adjustments == {"points_clipped": 1}


def test_pose_example(tmp_path: Path) -> None:
    document = {
        "task_type": "pose",
        "classes": [
            {
                "id": 4,
                "name": "face",
                "keypoints": ["nose", "left_eye", "right_eye"],
                "skeleton": [[1, 2], [1, 3]],
            }
        ],
        "images": [
            {
                "id": 1,
                "file_name": "p/1.jpg",
                "width": 200,
                "height": 100,
                "annotations": [
                    {
                        "id": 1,
                        "class_id": 4,
                        "bbox": [20, 10, 100, 50],
                        "keypoints": [50, 30, 2, 40, 20, 1, 250, 20, 2],
                        "num_keypoints": 3,
                    },
                    {"id": 2, "class_id": 4, "bbox": [0, 0, 10, 10]},
                ],
            }
        ],
    }
    root = write_dataset(tmp_path / "ds", document, file_name="annotations_pose.json")
    result = convert_dataset(root, "dice", "yolo", task_type="pose_estimation")
    assert (root / "labels/p/1.txt").read_text() == (
        "0 0.350000 0.350000 0.500000 0.500000 "
        "0.250000 0.300000 2 0.200000 0.200000 1 0.000000 0.000000 0\n"
    )
    data = read_yaml(root / "data.yaml")
    assert data["kpt_shape"] == [3, 3]
    assert data["flip_idx"] == [0, 2, 1]
    assert result.report.objects_dropped == {"missing_keypoints": 1}
    assert result.report.adjustments == {"keypoints_outside_image": 1}


def classification_document() -> dict[str, Any]:
    return {
        "task_type": "classification",
        "classes": [
            {"id": 3, "name": "dog"},
            {"id": 1, "name": "cat"},
            {"id": 0, "name": "__background__"},
        ],
        "images": [
            {
                "id": 1,
                "file_name": "a/x.jpg",
                "width": 8,
                "height": 8,
                "split": "train",
                "annotations": [{"id": 1, "class_id": 1}],
            },
            {
                "id": 2,
                "file_name": "b/x.jpg",
                "width": 8,
                "height": 8,
                "split": "train",
                "annotations": [
                    {"id": 2, "class_id": 3},
                    {"id": 3, "class_id": 1},
                    {"id": 4, "class_id": 3},
                ],
            },
            {
                "id": 3,
                "file_name": "c.jpg",
                "width": 8,
                "height": 8,
                "split": "val",
                "annotations": [{"id": 5, "class_id": 3}],
            },
            {
                "id": 4,
                "file_name": "d.jpg",
                "width": 8,
                "height": 8,
                "split": "val",
                "annotations": [{"id": 6, "class_id": 0}],
            },
        ],
    }


def _tree(root: Path) -> list[str]:
    return sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and not p.name.startswith(".")
    )


def test_classification_yolo_layout(tmp_path: Path) -> None:
    root = write_dataset(
        tmp_path / "ds", classification_document(), file_name="annotations_classification.json"
    )
    result = convert_dataset(root, "dice", "yolo", task_type="image_classification")
    assert result.data_yaml is None
    tree = [p for p in _tree(root) if p.startswith(("train/", "val/", "test/"))]
    assert tree == [
        "train/cat/a/x.jpg",
        "train/cat/b/x.jpg",
        "train/dog/b/x.jpg",
        "val/dog/c.jpg",
    ]
    linked = root / "train/cat/a/x.jpg"
    assert os.path.samefile(linked, root / "images/a/x.jpg")
    assert result.report.objects_kept == 4
    assert result.report.objects_dropped == {"background_class": 1, "duplicate_label": 1}
    assert result.report.negatives == 1


def test_imagefolder_layout(tmp_path: Path) -> None:
    root = write_dataset(
        tmp_path / "ds", classification_document(), file_name="annotations_classification.json"
    )
    result = convert_dataset(root, "dice", "imagefolder", task_type="classification")
    assert result.output_dir == str(root / "imagefolder")
    assert _tree(root / "imagefolder") == [
        "train/cat/a/x.jpg",
        "train/cat/b/x.jpg",
        "train/dog/b/x.jpg",
        "val/dog/c.jpg",
    ]


def test_coco_example(tmp_path: Path) -> None:
    root = write_dataset(tmp_path / "ds", detection_document(), missing=frozenset({"gone.jpg"}))
    result = convert_dataset(
        root, "dice", "coco", {"train_ratio": 1.0, "val_ratio": 0.0}, "detection"
    )
    out = root / "coco"
    assert result.output_dir == str(out)
    assert os.readlink(out / "images") == "../images"
    assert sorted(p.name for p in (out / "annotations").glob("*.json")) == [
        "train.json",
        "val.json",
    ]
    val = json.loads((out / "annotations/val.json").read_text())
    assert val["categories"] == [{"id": 2, "name": "person"}, {"id": 7, "name": "car"}]
    assert val["images"] == [
        {"id": 1, "file_name": "a/x.jpg", "width": 100, "height": 50, "split": "val"}
    ]
    boxes = sorted((a["category_id"], a["bbox"], a["iscrowd"]) for a in val["annotations"])
    # COCO keeps the crowd object; boxes are clipped; ids renumbered.
    assert boxes == [
        (2, [0.0, 10.0, 20.0, 20.0], 0),
        (2, [1.0, 1.0, 2.0, 2.0], 1),
        (7, [90.0, 40.0, 10.0, 10.0], 0),
    ]
    # Ids run across the split files (train first): unique over the dataset.
    train = json.loads((out / "annotations/train.json").read_text())
    assert [a["id"] for a in train["annotations"]] == [1]
    assert sorted(a["id"] for a in val["annotations"]) == [2, 3, 4]
    assert result.report.objects_dropped == {
        "background_class": 1,
        "missing_image": 1,
        "zero_area": 2,
    }
