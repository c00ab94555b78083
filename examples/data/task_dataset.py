#!/usr/bin/env python3
"""Turn the demo detection dataset (this folder) into a DICE dataset of another task.

    python examples/data/task_dataset.py classification /tmp/shapes-classification
    python examples/data/task_dataset.py segmentation /tmp/shapes-segmentation
    python examples/data/task_dataset.py pose /tmp/shapes-pose

writes OUT/annotations_<task>.json, metadata.json and a copy of images/, ready for
`trainer-sdk dry-run TRAIN_PY --dataset OUT`. Every image holds one filled box, so:

- classification: the image's class is the class of its box;
- segmentation: the box's outline is the object's polygon; every third image also carries the
  degenerate polygons real label tools produce (collinear points, a polygon thinner than the
  output's precision, a sliver left at the image edge after clipping), which the converter must
  drop, not hand to the framework;
- pose: the box's four corners are the keypoints (`top_left`, `top_right`, `bottom_right`,
  `bottom_left`, all visible).

Only the standard library is used; the output is the same on every run.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

SOURCE = Path(__file__).resolve().parent
TASKS = ("classification", "segmentation", "pose")
CORNERS = ("top_left", "top_right", "bottom_right", "bottom_left")
CLASSIFICATION_FIELDS = ("id", "image_id", "class_id", "class_name", "attributes")


def _corners(box: list[float]) -> list[float]:
    x, y, w, h = box
    return [x, y, x + w, y, x + w, y + h, x, y + h]


def _degenerate(width: int, height: int) -> list[list[float]]:
    """Polygons with no area at the precision of a YOLO label (6 decimals of the image size)."""
    return [
        [2.0, 3.0, 9.0, 3.0, 16.0, 3.0],  # collinear
        [4.0, 4.0, 12.0, 12.0, 20.0, 20.000001],  # collinear but for float noise
        [10.0, 10.0, 10.000004, 10.0, 10.0, 10.000004],  # far below one output unit
        [width - 0.0000001, 5.0, width + 8.0, 5.0, width + 8.0, 15.0],  # an edge sliver
        [-6.0, 8.0, -1.0, 8.0, -1.0, 20.0],  # entirely left of the image: clipped to a line
    ]


def convert(task: str, out: Path, source: Path = SOURCE) -> Path:
    """Write the `task` dataset made from the detection dataset in `source` into `out`."""
    if task not in TASKS:
        raise ValueError(f"task {task!r}: choose one of {', '.join(TASKS)}")
    document: dict[str, Any] = json.loads((source / "annotations_detection.json").read_text())
    document["task_type"] = task
    document.pop("statistics", None)
    if task == "pose":
        for category in document["classes"]:
            category["keypoints"] = list(CORNERS)
            category["skeleton"] = [[1, 2], [2, 3], [3, 4], [4, 1]]
    next_id = 1 + max(a["id"] for image in document["images"] for a in image["annotations"])
    for position, image in enumerate(document["images"]):
        annotations = image["annotations"]
        if task == "classification":
            image["annotations"] = [
                {key: a[key] for key in CLASSIFICATION_FIELDS if key in a} for a in annotations[:1]
            ]
            continue
        for annotation in annotations:
            if task == "segmentation":
                annotation["segmentation"] = [_corners(annotation["bbox"])]
            else:
                corners = _corners(annotation["bbox"])
                annotation["keypoints"] = [
                    v for i in range(0, 8, 2) for v in (corners[i], corners[i + 1], 2)
                ]
                annotation["num_keypoints"] = len(CORNERS)
        if task == "segmentation" and position % 3 == 0:
            template = annotations[0]
            for polygon in _degenerate(image["width"], image["height"]):
                annotations.append(
                    {
                        "id": next_id,
                        "image_id": image["id"],
                        "class_id": template["class_id"],
                        "class_name": template["class_name"],
                        "segmentation": [polygon],
                        "iscrowd": 0,
                        "attributes": {"note": "degenerate on purpose"},
                    }
                )
                next_id += 1
    metadata = json.loads((source / "metadata.json").read_text())
    metadata["task_type"] = task
    out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(document, indent=1) + "\n"
    (out / f"annotations_{task}.json").write_text(text, encoding="utf-8")
    (out / "metadata.json").write_text(json.dumps(metadata, indent=1) + "\n", encoding="utf-8")
    shutil.copytree(source / "images", out / "images", dirs_exist_ok=True)
    return out


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in TASKS:
        sys.exit(f"usage: {Path(sys.argv[0]).name} {{{','.join(TASKS)}}} OUTPUT_FOLDER")
    print(convert(sys.argv[1], Path(sys.argv[2])))
