"""Running counts of a conversion (objects kept, dropped by reason, adjusted)."""

from __future__ import annotations

from trainer_sdk.convert.report import Adjustment, DropReason

__all__ = ["Tally"]


class Tally:
    """Mutable counters filled while converting; the report is made from them."""

    __slots__ = ("adjustments", "dropped", "kept", "negatives", "objects")

    def __init__(self) -> None:
        self.objects = 0
        self.kept = 0
        self.negatives = 0
        self.dropped: dict[str, int] = {}
        self.adjustments: dict[str, int] = {}

    def drop(self, reason: DropReason, count: int = 1) -> None:
        """Count `count` objects dropped for `reason`."""
        self.dropped[reason.value] = self.dropped.get(reason.value, 0) + count

    def adjust(self, what: Adjustment, count: int = 1) -> None:
        """Count an object kept but changed (`Adjustment.BOXES_CLIPPED`, ...)."""
        if count:
            self.adjustments[what.value] = self.adjustments.get(what.value, 0) + count

    def sorted_dropped(self) -> dict[str, int]:
        """Drops by reason, in name order (stable output)."""
        return dict(sorted(self.dropped.items()))

    def sorted_adjustments(self) -> dict[str, int]:
        """Adjustments by kind, in name order."""
        return dict(sorted(self.adjustments.items()))
