"""Building DICE datasets on disk for the conversion tests, and reading the outputs back."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import yaml

IMAGE_BYTES = b"\xff\xd8\xff\xd9"


def write_dataset(
    root: Path,
    document: dict[str, Any],
    *,
    file_name: str = "annotations_detection.json",
    missing: frozenset[str] = frozenset(),
) -> Path:
    """`root/<file_name>` plus an image file for every image (except those in `missing`)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / file_name).write_text(json.dumps(document), encoding="utf-8")
    for image in document["images"]:
        if image["file_name"] in missing:
            continue
        path = root / "images" / image["file_name"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(IMAGE_BYTES)
    return root


def to_flat(document: dict[str, Any]) -> dict[str, Any]:
    """The same data in the flat COCO layout (categories, top-level annotations)."""
    doc = copy.deepcopy(document)
    annotations = []
    for image in doc["images"]:
        for ann in image.pop("annotations", []):
            ann = dict(ann)
            ann["image_id"] = image["id"]
            ann["category_id"] = ann.pop("class_id")
            annotations.append(ann)
    doc["categories"] = doc.pop("classes")
    doc["annotations"] = annotations
    return doc


def read_tree(root: Path, *, skip: tuple[str, ...] = ("images",)) -> dict[str, bytes]:
    """Every file under `root` (relative path -> bytes), `data.yaml` without its `path` line
    (the absolute output folder) and without hidden or skipped top-level entries."""
    out: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        top = rel.split("/")[0]
        if top in skip or top.startswith(".") or top.startswith("annotations") or path.is_dir():
            continue
        data = path.read_bytes()
        if rel == "data.yaml":
            data = b"\n".join(line for line in data.split(b"\n") if not line.startswith(b"path:"))
        out[rel] = data
    return out


def read_yaml(path: Path) -> dict[str, Any]:
    """A data.yaml as a dict."""
    loaded: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded


def rows(path: Path) -> list[list[str]]:
    """The rows of a label file, split into fields."""
    return [line.split() for line in path.read_text(encoding="utf-8").splitlines()]
