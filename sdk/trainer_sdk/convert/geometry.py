"""Geometry of labels: clipping to the image, polygons, keypoints, normalised coordinates.

All inputs are pixels from the top-left corner (DICE / COCO); outputs are either pixels (COCO
target) or fractions of the image size (YOLO target).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = [
    "MIN_FRACTION",
    "OUTPUT_DECIMALS",
    "clip_box",
    "clip_keypoints",
    "clip_polygon",
    "has_area_when_written",
    "merge_polygons",
    "polygon_area",
]

OUTPUT_DECIMALS = 6
"""Decimals of the fractions in a YOLO label row."""

MIN_FRACTION = 5e-7
"""A box side below this fraction of the image prints as 0.000000 with 6 decimals: such a box is
as good as zero-area and is dropped as such."""


def clip_box(
    bbox: Sequence[float], width: float, height: float
) -> tuple[float, float, float, float, bool] | None:
    """`[x, y, w, h]` clipped to the image as `(x1, y1, x2, y2, was_clipped)`, or None when
    less than `MIN_FRACTION` of the image is left in either direction."""
    x, y, w, h = bbox[0], bbox[1], bbox[2], bbox[3]
    x2 = x + w
    y2 = y + h
    clipped = False
    if x < 0:
        x, clipped = 0.0, True
    if y < 0:
        y, clipped = 0.0, True
    if x2 > width:
        x2, clipped = float(width), True
    if y2 > height:
        y2, clipped = float(height), True
    if x2 - x < MIN_FRACTION * width or y2 - y < MIN_FRACTION * height:
        return None
    return float(x), float(y), float(x2), float(y2), clipped


def clip_polygon(coords: Sequence[float], width: float, height: float) -> tuple[list[float], bool]:
    """Every vertex clamped into the image (as Ultralytics does); also whether any moved."""
    out: list[float] = []
    clipped = False
    for i in range(0, len(coords) - 1, 2):
        x = float(coords[i])
        y = float(coords[i + 1])
        if x <= 0.0:
            clipped = clipped or x < 0.0
            x = 0.0
        elif x > width:
            x, clipped = float(width), True
        if y <= 0.0:
            clipped = clipped or y < 0.0
            y = 0.0
        elif y > height:
            y, clipped = float(height), True
        out.append(x)
        out.append(y)
    return out, clipped


def polygon_area(coords: Sequence[float]) -> float:
    """Area of a simple polygon `[x1, y1, x2, y2, ...]` (shoelace formula)."""
    n = len(coords) // 2
    total = 0.0
    for i in range(n):
        j = (i + 1) % n
        total += coords[2 * i] * coords[2 * j + 1] - coords[2 * j] * coords[2 * i + 1]
    return abs(total) / 2.0


def has_area_when_written(coords: Sequence[float], width: float, height: float) -> bool:
    """Whether the polygon `[x1, y1, ...]` (pixels, already clipped) still encloses an area once
    written as fractions of the image with `OUTPUT_DECIMALS` decimals.

    Not when, at that precision, its points are fewer than three, its bounding box has no width
    or no height (Ultralytics derives the object's box from the polygon and divides its mask
    loss by that box's area: a zero gives a NaN loss), or it is a line: thinner on average
    (twice its area over its perimeter) than one unit of the last decimal. Collinear points,
    sub-pixel specks and slivers left at the image's edge by clipping are all such polygons.
    """
    unit = 10.0**-OUTPUT_DECIMALS
    xs = [round(coords[i] / width, OUTPUT_DECIMALS) for i in range(0, len(coords) - 1, 2)]
    ys = [round(coords[i + 1] / height, OUTPUT_DECIMALS) for i in range(0, len(coords) - 1, 2)]
    if len(set(zip(xs, ys, strict=True))) < 3:
        return False
    if max(xs) - min(xs) < unit / 2 or max(ys) - min(ys) < unit / 2:
        return False
    n = len(xs)
    twice_area = 0.0
    perimeter = 0.0
    for i in range(n):
        j = (i + 1) % n
        twice_area += xs[i] * ys[j] - xs[j] * ys[i]
        perimeter += math.hypot(xs[j] - xs[i], ys[j] - ys[i])
    return abs(twice_area) > perimeter * unit


def _closest(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> tuple[int, int]:
    best = (float("inf"), 0, 0)
    for i, (ax, ay) in enumerate(a):
        for j, (bx, by) in enumerate(b):
            d = (ax - bx) ** 2 + (ay - by) ** 2
            if d < best[0]:
                best = (d, i, j)
    return best[1], best[2]


def _ring(points: list[tuple[float, float]], start: int) -> list[tuple[float, float]]:
    # The polygon walked from `start` all the way round and back to `start`.
    return points[start:] + points[:start] + [points[start]]


def merge_polygons(polygons: Sequence[Sequence[float]]) -> list[float]:
    """Several polygons of one object as the single outline a YOLO row holds.

    As Ultralytics' `merge_multi_segment`: consecutive polygons are joined at their closest pair
    of points by a zero-width bridge that is walked there and back, so the outline covers each
    polygon once. (Ultralytics reverses middle polygons without moving the link index; this walks
    the same route without that slip.)
    """
    rings = [[(p[i], p[i + 1]) for i in range(0, len(p) - 1, 2)] for p in polygons]
    if len(rings) == 1:
        return [v for point in rings[0] for v in point]
    links = [_closest(rings[i], rings[i + 1]) for i in range(len(rings) - 1)]
    out: list[tuple[float, float]] = _ring(rings[0], links[0][0])
    backward: list[list[tuple[float, float]]] = []
    for i in range(1, len(rings)):
        entry = links[i - 1][1]
        ring = _ring(rings[i], entry)
        if i == len(rings) - 1:
            out += ring
        else:
            exit_at = (links[i][0] - entry) % len(rings[i])
            out += ring[: exit_at + 1]
            backward.append(ring[exit_at:])
    for part in reversed(backward):
        out += part
    return [v for point in out for v in point]


def clip_keypoints(
    keypoints: Sequence[float], width: float, height: float
) -> tuple[list[tuple[float, float, int]], int]:
    """`[x, y, v, ...]` as `(x, y, v)` triples; a labelled point outside the image becomes
    absent `(0, 0, 0)` (it is not in the picture). Also returns how many points that hit."""
    out: list[tuple[float, float, int]] = []
    outside = 0
    for i in range(0, len(keypoints) - 2, 3):
        x, y, v = float(keypoints[i]), float(keypoints[i + 1]), int(keypoints[i + 2])
        if v <= 0:
            out.append((0.0, 0.0, 0))
        elif x < 0 or y < 0 or x > width or y > height:
            out.append((0.0, 0.0, 0))
            outside += 1
        else:
            out.append((x, y, v))
    return out, outside
