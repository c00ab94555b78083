"""The dataset section: what the trainer was given, read from the converted dataset.

The DICE dataset is converted to COCO with the SDK's own converter (into a temporary folder), so
the report shows exactly what a trainer gets after `convert_dataset`: classes after the class map,
boxes after clipping, dropped objects gone. From it: the class histogram, objects per image, box
sizes, split sizes, and a grid of sample images with their boxes, masks or keypoints drawn with
Pillow, as small JPEG thumbnails embedded in the page (`data:` URIs).
"""

from __future__ import annotations

import base64
import io
import json
import math
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["DatasetView", "Sample", "dataset_view"]

THUMBNAIL = 160
SAMPLES = 12
_JPEG_QUALITY = 70
_COLOURS = (
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (23, 190, 207),
    (188, 189, 34),
    (127, 127, 127),
)


@dataclass(frozen=True)
class Sample:
    """One drawn image: its name, split, the classes on it and the thumbnail as a data URI."""

    file_name: str
    split: str
    classes: tuple[str, ...]
    data_uri: str


@dataclass
class DatasetView:
    """The numbers and pictures of the dataset section."""

    task_type: str
    class_names: list[str]
    class_counts: dict[str, int]
    split_sizes: dict[str, int]
    objects_per_image: list[int]
    relative_box_sizes: list[float]  # sqrt(box area / image area)
    samples: list[Sample] = field(default_factory=list)
    conversion: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def _dice_root(path: Path) -> Path:
    return path.parent if path.is_file() else path


def _placeholder(text: str) -> Any:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (THUMBNAIL, THUMBNAIL * 3 // 4), (230, 230, 230))
    ImageDraw.Draw(image).text((8, 8), text, fill=(120, 120, 120))
    return image


def _skeleton_pairs(category: dict[str, Any], count: int) -> list[tuple[int, int]]:
    pairs = [tuple(p) for p in category.get("skeleton") or [] if len(p) == 2]
    one_based = bool(pairs) and all(1 <= a <= count and 1 <= b <= count for a, b in pairs)
    offset = 1 if one_based and not any(0 in p for p in pairs) else 0
    return [(int(a) - offset, int(b) - offset) for a, b in pairs]


def _draw(
    image_path: Path,
    image: dict[str, Any],
    annotations: list[dict[str, Any]],
    categories: dict[int, dict[str, Any]],
    colour_of: dict[int, tuple[int, int, int]],
    task: str,
) -> str:
    from PIL import Image, ImageDraw, UnidentifiedImageError

    try:
        with Image.open(image_path) as opened:
            picture = opened.convert("RGB")
    except (OSError, UnidentifiedImageError, ValueError):
        picture = _placeholder("unreadable image")
        annotations = []
    width = float(image.get("width") or picture.width)
    height = float(image.get("height") or picture.height)
    scale = min(THUMBNAIL / max(width, 1.0), THUMBNAIL / max(height, 1.0))
    # Small images are scaled up (nearest) so that their boxes stay visible.
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    picture = picture.resize(
        size, Image.Resampling.LANCZOS if scale < 1 else Image.Resampling.NEAREST
    )
    overlay = Image.new("RGBA", picture.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    for ann in annotations:
        colour = colour_of.get(int(ann.get("category_id", -1)), (255, 255, 0))
        segmentation = ann.get("segmentation")
        if isinstance(segmentation, list):
            for polygon in segmentation:
                points = [
                    (polygon[i] * scale, polygon[i + 1] * scale)
                    for i in range(0, len(polygon) - 1, 2)
                ]
                if len(points) >= 3:
                    draw.polygon(points, fill=(*colour, 90), outline=(*colour, 255))
        box = ann.get("bbox")
        if isinstance(box, list) and len(box) == 4 and task != "classification":
            x, y, w, h = (float(v) * scale for v in box)
            draw.rectangle((x, y, x + w, y + h), outline=(*colour, 255), width=2)
        keypoints = ann.get("keypoints")
        if isinstance(keypoints, list) and keypoints:
            triples = [keypoints[i : i + 3] for i in range(0, len(keypoints) - 2, 3)]
            category = categories.get(int(ann.get("category_id", -1)), {})
            for a, b in _skeleton_pairs(category, len(triples)):
                inside = 0 <= a < len(triples) and 0 <= b < len(triples)
                if inside and triples[a][2] > 0 and triples[b][2] > 0:
                    draw.line(
                        (
                            triples[a][0] * scale,
                            triples[a][1] * scale,
                            triples[b][0] * scale,
                            triples[b][1] * scale,
                        ),
                        fill=(*colour, 255),
                        width=2,
                    )
            for kx, ky, visible in triples:
                if visible > 0:
                    r = 3
                    draw.ellipse(
                        (kx * scale - r, ky * scale - r, kx * scale + r, ky * scale + r),
                        fill=(255, 255, 255, 255),
                        outline=(*colour, 255),
                    )
    combined = Image.alpha_composite(picture.convert("RGBA"), overlay).convert("RGB")
    if task == "classification" and annotations:
        name = categories.get(int(annotations[0].get("category_id", -1)), {}).get("name", "?")
        label = ImageDraw.Draw(combined)
        label.rectangle(
            (0, 0, combined.width, 14),
            fill=colour_of.get(int(annotations[0]["category_id"]), (0, 0, 0)),
        )
        label.text((3, 1), str(name), fill=(255, 255, 255))
    buffer = io.BytesIO()
    combined.save(buffer, "JPEG", quality=_JPEG_QUALITY, optimize=True)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _read_coco(folder: Path) -> dict[str, dict[str, Any]]:
    documents = {}
    for split in ("train", "val", "test"):
        path = folder / "annotations" / f"{split}.json"
        if path.is_file():
            documents[split] = json.loads(path.read_text(encoding="utf-8"))
    return documents


def _pick_samples(
    images: list[tuple[str, dict[str, Any]]], by_image: dict[Any, list[dict[str, Any]]]
) -> list[tuple[str, dict[str, Any]]]:
    """Up to SAMPLES images, spread over the classes: one per class first, then evenly."""
    chosen: list[tuple[str, dict[str, Any]]] = []
    seen_classes: set[int] = set()
    for split, image in images:
        classes = {int(a.get("category_id", -1)) for a in by_image.get(image["id"], [])}
        if classes - seen_classes:
            chosen.append((split, image))
            seen_classes |= classes
        if len(chosen) >= SAMPLES:
            return chosen
    rest = [item for item in images if item not in chosen]
    step = max(1, len(rest) // max(1, SAMPLES - len(chosen)))
    chosen += rest[::step][: SAMPLES - len(chosen)]
    return chosen


def _view(root: Path) -> DatasetView:
    from trainer_sdk.convert import convert_dataset

    with tempfile.TemporaryDirectory(prefix="trainer-report-") as tmp:
        result = convert_dataset(root, "dice", "coco", output_dir=Path(tmp) / "coco")
        documents = _read_coco(Path(result.output_dir))
        categories: dict[int, dict[str, Any]] = {}
        for document in documents.values():
            for category in document.get("categories", []):
                categories[int(category["id"])] = category
        order = sorted(categories)
        colour_of = {cid: _COLOURS[i % len(_COLOURS)] for i, cid in enumerate(order)}
        names = {cid: str(categories[cid].get("name", cid)) for cid in order}
        counts: Counter[str] = Counter()
        per_image: list[int] = []
        sizes: list[float] = []
        images: list[tuple[str, dict[str, Any]]] = []
        by_image: dict[Any, list[dict[str, Any]]] = {}
        for split, document in documents.items():
            sizes_of = {img["id"]: img for img in document.get("images", [])}
            for ann in document.get("annotations", []):
                by_image.setdefault(ann["image_id"], []).append(ann)
                counts[names.get(int(ann.get("category_id", -1)), "?")] += 1
                box = ann.get("bbox")
                img = sizes_of.get(ann["image_id"], {})
                area = float(img.get("width") or 0) * float(img.get("height") or 0)
                if isinstance(box, list) and len(box) == 4 and area > 0:
                    sizes.append(math.sqrt(max(0.0, float(box[2]) * float(box[3])) / area))
            for image in document.get("images", []):
                images.append((split, image))
                per_image.append(len(by_image.get(image["id"], [])))
        images.sort(key=lambda item: str(item[1].get("file_name")))
        task = str(result.report.task_type)
        samples = []
        for split, image in _pick_samples(images, by_image):
            anns = by_image.get(image["id"], [])
            samples.append(
                Sample(
                    file_name=str(image["file_name"]),
                    split=split,
                    classes=tuple(
                        sorted({names.get(int(a.get("category_id", -1)), "?") for a in anns})
                    ),
                    data_uri=_draw(
                        root / "images" / str(image["file_name"]),
                        image,
                        anns,
                        categories,
                        colour_of,
                        task,
                    ),
                )
            )
        conversion = result.report.to_dict() if hasattr(result.report, "to_dict") else {}
    return DatasetView(
        task_type=task,
        class_names=[names[c] for c in order],
        class_counts={names[c]: counts.get(names[c], 0) for c in order},
        split_sizes={split: len(doc.get("images", [])) for split, doc in documents.items()},
        objects_per_image=per_image,
        relative_box_sizes=sizes,
        samples=samples,
        conversion=conversion if isinstance(conversion, dict) else {},
    )


@lru_cache(maxsize=8)
def _cached(root: str, stamp: float) -> DatasetView:
    try:
        return _view(Path(root))
    except Exception as exc:  # a report shows what it can; the dataset's problem is reported
        return DatasetView("", [], {}, {}, [], [], error=f"{type(exc).__name__}: {exc}")


def dataset_view(path: Path) -> DatasetView:
    """The dataset section's data for a DICE folder (or its annotation file); cached per version."""
    root = _dice_root(path).resolve()
    stamp = max((p.stat().st_mtime for p in root.glob("annotations*.json")), default=0.0)
    return _cached(str(root), stamp)
