#!/usr/bin/env python3
"""Write the demo DICE detection dataset in this folder, byte for byte the same on every run.

The dataset is what `make demo` uploads to the external bucket: 48 tiny RGB images (32x32 PNG,
written with zlib and struct so that no imaging library is needed), each with one coloured box on
a noisy background, in the platform's layout::

    annotations_detection.json   nested DICE layout, explicit train/val splits
    metadata.json
    images/<folder>/<n>.png      folders on purpose: file names are relative paths

Class ids are 1 and 3 (not contiguous, not starting at 0) because real DICE files look like that.
Run `python examples/data/generate.py` to rebuild; a test checks that the committed files equal
what this script writes.
"""

from __future__ import annotations

import json
import random
import struct
import sys
import zlib
from pathlib import Path
from typing import Any

DATASET_ID = "ds_demo_shapes"
SIZE = 32
IMAGES_PER_FOLDER = 24
FOLDERS = ("bright", "dim")
VAL_EVERY = 4  # every 4th image is validation: 36 train, 12 val
STAMP = "2026-01-15T09:00:00Z"  # fixed, so that the output is reproducible
CLASSES = (
    {"id": 1, "name": "red_box", "color": "#d62728", "supercategory": "shape"},
    {"id": 3, "name": "blue_box", "color": "#1f77b4", "supercategory": "shape"},
)
RGB = {1: (214, 39, 40), 3: (31, 119, 180)}


def png_bytes(width: int, height: int, rows: list[bytes]) -> bytes:
    """Encode 8-bit RGB rows as a PNG file (filter type 0 on every row)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    raw = b"".join(b"\x00" + row for row in rows)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def draw(rng: random.Random, base: int, class_id: int) -> tuple[list[bytes], list[int]]:
    """Draw one image: noise around `base` grey, one filled box; return rows and its xywh box."""
    w = rng.randint(8, 18)
    h = rng.randint(8, 18)
    x = rng.randint(0, SIZE - w)
    y = rng.randint(0, SIZE - h)
    colour = RGB[class_id]
    rows = []
    for row in range(SIZE):
        pixels = bytearray()
        for col in range(SIZE):
            if x <= col < x + w and y <= row < y + h:
                pixels.extend(max(0, min(255, c + rng.randint(-12, 12))) for c in colour)
            else:
                grey = max(0, min(255, base + rng.randint(-30, 30)))
                pixels.extend((grey, grey, grey))
        rows.append(bytes(pixels))
    return rows, [x, y, w, h]


def build(out: Path) -> None:
    """Write the whole dataset under `out`."""
    rng = random.Random(20260115)
    images: list[dict[str, Any]] = []
    counts = {c["id"]: 0 for c in CLASSES}
    index = 0
    for folder, base in zip(FOLDERS, (170, 70), strict=True):
        for n in range(IMAGES_PER_FOLDER):
            index += 1
            class_id = CLASSES[rng.randrange(len(CLASSES))]["id"]
            rows, box = draw(rng, base, int(class_id))
            file_name = f"{folder}/{n:03d}.png"
            target = out / "images" / file_name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(png_bytes(SIZE, SIZE, rows))
            counts[int(class_id)] += 1
            name = next(c["name"] for c in CLASSES if c["id"] == class_id)
            images.append(
                {
                    "id": index,
                    "file_name": file_name,
                    "width": SIZE,
                    "height": SIZE,
                    "depth": 3,
                    "split": "val" if index % VAL_EVERY == 0 else "train",
                    "annotations": [
                        {
                            "id": index,
                            "image_id": index,
                            "class_id": class_id,
                            "class_name": name,
                            "bbox": box,
                            "bbox_format": "xywh",
                            "area": box[2] * box[3],
                            "iscrowd": 0,
                            "attributes": {},
                        }
                    ],
                    "metadata": {"lighting": folder},
                }
            )
    annotations = {
        "format_version": "1.0",
        "dataset_id": DATASET_ID,
        "dataset_name": "Demo shapes (generated)",
        "task_type": "detection",
        "created_at": STAMP,
        "last_modified_at": STAMP,
        "version": 1,
        "classes": list(CLASSES),
        "images": images,
        "statistics": {
            "total_images": len(images),
            "total_annotations": len(images),
            "class_distribution": {c["name"]: counts[int(c["id"])] for c in CLASSES},
        },
        "storage_info": {"image_root": f"datasets/{DATASET_ID}/images/"},
    }
    metadata = {
        "dataset_id": DATASET_ID,
        "name": annotations["dataset_name"],
        "task_type": "detection",
        "format": "dice",
        "version": 1,
        "num_images": len(images),
        "num_classes": len(CLASSES),
        "class_names": [c["name"] for c in CLASSES],
        "created_at": STAMP,
    }
    for name, doc in (("annotations_detection.json", annotations), ("metadata.json", metadata)):
        (out / name).write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent)
