"""The conversion report: what went in, what came out, and what was dropped and why.

Its JSON form is `schemas/dice/conversion-report.json`; the drop reasons and adjustment kinds are
the generated `DropReason` and `Adjustment`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from trainer_contract.conversion_report import Adjustment, DropReason

__all__ = ["Adjustment", "ConversionReport", "DropReason"]


@dataclass(frozen=True)
class ConversionReport:
    """Counts of one conversion; `to_dict()` / `to_json()` give its JSON form.

    `images` counts the images of the annotation file; `images_converted` those whose file exists
    (only they appear in the outputs); `negatives` the converted images without any kept object
    (YOLO gets an empty label file for each). `objects_dropped` maps a `DropReason` value to its
    count; `adjustments` counts objects kept but changed (`boxes_clipped`, `points_clipped`,
    `keypoints_outside_image`). `classes` lists the class names in output index order and
    `class_ids` their DICE ids (output index i is DICE class `class_ids[i]`).
    """

    source_format: str
    target_format: str
    task_type: str
    annotation_file: str
    layout: str
    images: int
    images_converted: int
    images_missing: int
    negatives: int
    objects: int
    objects_kept: int
    objects_dropped: dict[str, int]
    adjustments: dict[str, int]
    classes: list[str]
    class_ids: list[int]
    splits: dict[str, int]
    missing_image_examples: list[str] = field(default_factory=list)

    @property
    def objects_dropped_total(self) -> int:
        """How many objects were dropped, whatever the reason."""
        return sum(self.objects_dropped.values())

    def to_dict(self) -> dict[str, Any]:
        """The report as plain JSON-ready data (what the SDK logs)."""
        return asdict(self)

    def to_json(self) -> str:
        """The report as a JSON document (stable key order)."""
        return json.dumps(self.to_dict(), sort_keys=True)

    def summary(self) -> str:
        """One line for a log: images, objects kept and dropped, splits."""
        dropped = ", ".join(f"{k} {v}" for k, v in self.objects_dropped.items()) or "none"
        splits = ", ".join(f"{k} {v}" for k, v in self.splits.items())
        return (
            f"DICE -> {self.target_format} ({self.task_type}): {self.images_converted}/"
            f"{self.images} images ({self.negatives} without objects), {self.objects_kept}/"
            f"{self.objects} objects kept, dropped: {dropped}; splits: {splits}"
        )
