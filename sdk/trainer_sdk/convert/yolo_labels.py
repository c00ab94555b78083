"""The text of YOLO label files, one per image, for detection, segmentation and pose.

Rows (6 decimals, fractions of the image size, every value in [0, 1]):
detection `class cx cy w h`; segmentation `class x1 y1 x2 y2 ...`; pose `class cx cy w h` followed
by one `x y v` triple per keypoint (v as in DICE: 0 absent, 1 occluded, 2 visible). Rows are sorted,
so a file does not depend on the order of the annotations. Objects that cannot become a row are
counted by `DropReason`; data that is wrong (an unknown class id, an odd number of polygon
coordinates, keypoints that do not match the class) is a problem, reported with its JSON path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from trainer_sdk.convert.dice_reader import DiceDataset, DiceImage
from trainer_sdk.convert.geometry import (
    MIN_FRACTION,
    clip_box,
    clip_keypoints,
    clip_polygon,
    has_area_when_written,
    merge_polygons,
)
from trainer_sdk.convert.problems import Problems
from trainer_sdk.convert.report import Adjustment, DropReason
from trainer_sdk.convert.tally import Tally

__all__ = ["BATCH", "LabelFile", "build_labels", "class_of"]

LabelFile = tuple[str, bytes]
"""(label path relative to `labels/`, file content)."""
Sink = Callable[[list[LabelFile]], None]

BATCH = 1024
"""Label files handed to the sink at a time: writing starts while the rest is formatted."""

_BOX_ROW = "%d %.6f %.6f %.6f %.6f\n"


def class_of(
    dataset: DiceDataset, image: DiceImage, k: int, ann: dict[str, Any], problems: Problems
) -> int | None:
    """Output index of the annotation's class (-1 for background); None (and a problem) when the
    annotation names no class or an unknown one."""
    class_id = ann.get("class_id")
    key = "class_id"
    if class_id is None:
        class_id = ann.get("category_id")
        key = "category_id"
    if class_id is None:
        problems.add(dataset.annotation_path(image, k), "names no class: add class_id")
        return None
    index = dataset.class_index.get(class_id)
    if index is None:
        problems.add(
            f"{dataset.annotation_path(image, k)}.{key}",
            f"class {class_id!r} is not among the file's classes",
        )
    return index


def build_labels(
    dataset: DiceDataset,
    images: list[DiceImage],
    task: str,
    problems: Problems,
    tally: Tally,
    sink: Sink,
) -> None:
    """Label files of `images` for `task` (detection, segmentation or pose), handed to `sink`
    in batches of `BATCH`."""
    if task == "detection":
        _detection(dataset, images, problems, tally, sink)
        return
    row: Callable[[DiceDataset, DiceImage, int, dict[str, Any], int, Problems, Tally], str | None]
    row = _segment_row if task == "segmentation" else _pose_row
    out: list[LabelFile] = []
    for image in images:
        rows: list[str] = []
        for k, ann in enumerate(image.annotations):
            tally.objects += 1
            index = class_of(dataset, image, k, ann, problems)
            if index is None:
                continue
            if index < 0:
                tally.drop(DropReason.BACKGROUND_CLASS)
                continue
            if ann.get("iscrowd"):
                tally.drop(DropReason.CROWD)
                continue
            text = row(dataset, image, k, ann, index, problems, tally)
            if text is not None:
                rows.append(text)
        _finish(image, rows, out, tally)
        if len(out) >= BATCH:
            sink(out)
            out = []
    sink(out)


def _finish(image: DiceImage, rows: list[str], out: list[LabelFile], tally: Tally) -> None:
    tally.kept += len(rows)
    if rows:
        rows.sort()
    else:
        tally.negatives += 1
    out.append((image.stem + ".txt", "".join(rows).encode()))


def _detection(
    dataset: DiceDataset, images: list[DiceImage], problems: Problems, tally: Tally, sink: Sink
) -> None:
    # The hot path of the benchmark: 500,000 boxes. Clipping is inlined and the row formatted
    # with one %-operation; everything else is kept out of the loop.
    index_of = dataset.class_index
    out: list[LabelFile] = []
    fmt = _BOX_ROW
    crowd = background = no_box = zero = clipped = 0
    for image in images:
        width = image.width
        height = image.height
        sx = 1.0 / width
        sy = 1.0 / height
        min_w = MIN_FRACTION * width
        min_h = MIN_FRACTION * height
        rows: list[str] = []
        for k, ann in enumerate(image.annotations):
            # Subscripts in `try` (free in 3.11) instead of .get calls: 500,000 times each.
            try:
                index = index_of[ann["class_id"]]
            except KeyError:
                index = index_of.get(ann.get("category_id", -1), -2)
            if index < 0:
                if index == -2:
                    class_of(dataset, image, k, ann, problems)
                else:
                    background += 1
                continue
            if ann.get("iscrowd"):
                crowd += 1
                continue
            try:
                x1, y1, w, h = ann["bbox"]
            except KeyError:
                no_box += 1
                continue
            x2 = x1 + w
            y2 = y1 + h
            if x1 < 0 or y1 < 0 or x2 > width or y2 > height:
                if x1 < 0:
                    x1 = 0.0
                if y1 < 0:
                    y1 = 0.0
                if x2 > width:
                    x2 = width
                if y2 > height:
                    y2 = height
                if x2 - x1 < min_w or y2 - y1 < min_h:
                    zero += 1
                    continue
                clipped += 1
            elif w < min_w or h < min_h:
                zero += 1
                continue
            rows.append(
                fmt
                % (
                    index,
                    (x1 + x2) * 0.5 * sx,
                    (y1 + y2) * 0.5 * sy,
                    (x2 - x1) * sx,
                    (y2 - y1) * sy,
                )
            )
        tally.objects += len(image.annotations)
        _finish(image, rows, out, tally)
        if len(out) >= BATCH:
            sink(out)
            out = []
    sink(out)
    for reason, count in (
        (DropReason.BACKGROUND_CLASS, background),
        (DropReason.CROWD, crowd),
        (DropReason.MISSING_BBOX, no_box),
        (DropReason.ZERO_AREA, zero),
    ):
        if count:
            tally.drop(reason, count)
    tally.adjust(Adjustment.BOXES_CLIPPED, clipped)


def _fmt(values: list[float]) -> str:
    return " ".join([f"{v:.6f}" for v in values])


def _segment_row(
    dataset: DiceDataset,
    image: DiceImage,
    k: int,
    ann: dict[str, Any],
    index: int,
    problems: Problems,
    tally: Tally,
) -> str | None:
    segmentation = ann.get("segmentation")
    if segmentation is None or (isinstance(segmentation, list) and not segmentation):
        tally.drop(DropReason.MISSING_SEGMENTATION)
        return None
    if isinstance(segmentation, dict):
        tally.drop(DropReason.RLE_MASK)
        return None
    width, height = image.width, image.height
    polygons: list[list[float]] = []
    moved = False
    for p, polygon in enumerate(segmentation):
        if len(polygon) % 2:
            problems.add(
                f"{dataset.annotation_path(image, k)}.segmentation[{p}]",
                f"has {len(polygon)} numbers; a polygon is x, y pairs",
            )
            return None
        points, was_clipped = clip_polygon(polygon, width, height)
        moved = moved or was_clipped
        # A polygon that is a line or a point in the written row is no object to learn from.
        if has_area_when_written(points, width, height):
            polygons.append(points)
    if not polygons:
        tally.drop(DropReason.ZERO_AREA)
        return None
    if moved:
        tally.adjust(Adjustment.POINTS_CLIPPED)
    outline = merge_polygons(polygons)
    sx, sy = 1.0 / width, 1.0 / height
    scaled = [v * (sx if i % 2 == 0 else sy) for i, v in enumerate(outline)]
    return f"{index} {_fmt(scaled)}\n"


def _pose_row(
    dataset: DiceDataset,
    image: DiceImage,
    k: int,
    ann: dict[str, Any],
    index: int,
    problems: Problems,
    tally: Tally,
) -> str | None:
    keypoints = ann.get("keypoints")
    box = ann.get("bbox")
    if box is None:
        tally.drop(DropReason.MISSING_BBOX)
        return None
    if keypoints is None:
        tally.drop(DropReason.MISSING_KEYPOINTS)
        return None
    expected = dataset.kpt_count
    path = dataset.annotation_path(image, k)
    if len(keypoints) != 3 * expected:
        problems.add(
            f"{path}.keypoints",
            f"has {len(keypoints)} numbers; the dataset's pose has {expected} keypoints, "
            f"so {3 * expected} numbers (x, y, v each)",
        )
        return None
    bad = [v for v in keypoints[2::3] if v not in (0, 1, 2)]
    if bad:
        problems.add(f"{path}.keypoints", f"visibility {bad[0]!r} is not 0, 1 or 2")
        return None
    width, height = image.width, image.height
    clipped = clip_box(box, width, height)
    if clipped is None:
        tally.drop(DropReason.ZERO_AREA)
        return None
    x1, y1, x2, y2, was_clipped = clipped
    if was_clipped:
        tally.adjust(Adjustment.BOXES_CLIPPED)
    points, outside = clip_keypoints(keypoints, width, height)
    tally.adjust(Adjustment.KEYPOINTS_OUTSIDE_IMAGE, outside)
    sx, sy = 1.0 / width, 1.0 / height
    head = _BOX_ROW % (
        index,
        (x1 + x2) * 0.5 * sx,
        (y1 + y2) * 0.5 * sy,
        (x2 - x1) * sx,
        (y2 - y1) * sy,
    )
    tail = " ".join(f"{x * sx:.6f} {y * sy:.6f} {v}" for x, y, v in points)
    return f"{head[:-1]} {tail}\n" if tail else head
