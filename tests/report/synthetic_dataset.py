"""Small DICE datasets with real images (drawn with Pillow), one per task type, for report tests.

Each image is a grey background with one to three coloured shapes; the annotations say where
they are (boxes, polygons, keypoints) and which class each one is, so the report's sample grid
has something true to draw.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

CLASSES = ("circle", "square", "triangle")
COLOURS = ((200, 40, 40), (40, 90, 200), (40, 160, 60))
KEYPOINTS = ("top", "left", "right")


def _shape(rng: random.Random, width: int, height: int) -> tuple[int, int, int, int]:
    w, h = rng.randint(12, width // 2), rng.randint(12, height // 2)
    x, y = rng.randint(0, width - w), rng.randint(0, height - h)
    return x, y, w, h


def write_dice(root: Path, task: str, *, images: int = 16, seed: int = 1) -> Path:
    """Write `root/annotations_<task>.json`, `metadata.json` and `images/` for `task`."""
    rng = random.Random(seed)
    width, height = 96, 72
    classes: list[dict[str, Any]] = []
    for index, name in enumerate(CLASSES):
        entry: dict[str, Any] = {"id": index + 1, "name": name}
        if task == "pose":
            entry["keypoints"] = list(KEYPOINTS)
            entry["skeleton"] = [[1, 2], [1, 3], [2, 3]]
        classes.append(entry)
    entries = []
    ann_id = 1
    for number in range(images):
        picture = Image.new("RGB", (width, height), (205, 205, 205))
        draw = ImageDraw.Draw(picture)
        annotations = []
        count = 1 if task == "classification" else rng.randint(1, 3)
        for _ in range(count):
            cls = rng.randrange(len(CLASSES))
            x, y, w, h = _shape(rng, width, height)
            triangle = [(x + w / 2, y), (x, y + h), (x + w, y + h)]
            if cls == 0:
                draw.ellipse((x, y, x + w, y + h), fill=COLOURS[cls])
            elif cls == 1:
                draw.rectangle((x, y, x + w, y + h), fill=COLOURS[cls])
            else:
                draw.polygon(triangle, fill=COLOURS[cls])
            ann: dict[str, Any] = {"id": ann_id, "class_id": cls + 1}
            ann_id += 1
            if task != "classification":
                ann["bbox"] = [x, y, w, h]
                ann["iscrowd"] = 0
            if task == "segmentation":
                ann["segmentation"] = [[v for point in triangle for v in point]]
            if task == "pose":
                ann["keypoints"] = [v for point in triangle for v in (*point, 2)]
                ann["num_keypoints"] = 3
            annotations.append(ann)
        name = f"{'a' if number % 2 else 'b'}/{number:03d}.png"
        path = root / "images" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        picture.save(path)
        entries.append(
            {
                "id": number + 1,
                "file_name": name,
                "width": width,
                "height": height,
                "split": "val" if number % 4 == 0 else "train",
                "annotations": annotations,
            }
        )
    document = {
        "format_version": "1.0",
        "dataset_id": f"ds_report_{task}",
        "task_type": task,
        "classes": classes,
        "images": entries,
    }
    root.mkdir(parents=True, exist_ok=True)
    (root / f"annotations_{task}.json").write_text(json.dumps(document), encoding="utf-8")
    (root / "metadata.json").write_text(
        json.dumps(
            {
                "dataset_id": f"ds_report_{task}",
                "task_type": task,
                "format": "dice",
                "num_images": images,
                "num_classes": len(CLASSES),
                "class_names": list(CLASSES),
            }
        ),
        encoding="utf-8",
    )
    return root
