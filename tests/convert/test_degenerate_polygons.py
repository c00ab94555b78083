"""Polygons with no area at the precision of a YOLO row are dropped as zero-area objects."""

from __future__ import annotations

import pytest

from trainer_sdk.convert.geometry import clip_polygon, has_area_when_written


@pytest.mark.parametrize(
    ("polygon", "size", "kept"),
    [
        ([2, 2, 20, 2, 20, 20], (32, 32), True),  # an ordinary triangle
        ([0.1, 0.1, 0.6, 0.1, 0.6, 0.6], (32, 32), True),  # sub-pixel, but well above 1e-6
        ([2, 3, 9, 3, 16, 3], (32, 32), False),  # collinear (horizontal: zero-height box)
        ([4, 4, 12, 12, 20, 20.000001], (32, 32), False),  # collinear once written
        ([1, 1, 30, 29, 30, 29.00002], (32, 32), False),  # a needle thinner than 1e-6
        ([10, 10, 10.000004, 10, 10, 10.000004], (32, 32), False),  # a speck
        ([5, 5, 5, 5, 5, 5], (32, 32), False),  # a point
        ([2, 2, 20, 2], (32, 32), False),  # two points
        ([31.9999999, 5, 40, 5, 40, 15], (32, 32), False),  # an edge sliver after clipping
        ([-6, 8, -1, 8, -1, 20], (32, 32), False),  # outside: clipped onto the edge
        ([0, 0, 0.05, 0, 0.05, 0.05], (20000, 20000), False),  # 2.5e-6 wide in a huge image
    ],
)
def test_has_area_when_written(polygon: list[float], size: tuple[int, int], kept: bool) -> None:
    width, height = size
    points, _ = clip_polygon(polygon, width, height)
    assert has_area_when_written(points, width, height) is kept
