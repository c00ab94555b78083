"""Every conversion report is valid against schemas/dice/conversion-report.json."""

from __future__ import annotations

from pathlib import Path

import pytest
from dice_builder import write_dataset
from test_examples import detection_document

from trainer_contract.conversion_report import Adjustment, DropReason
from trainer_contract.validators import validator
from trainer_sdk.convert import convert_dataset


@pytest.mark.parametrize("target", ["yolo", "coco"])
def test_reports_with_drops_and_adjustments_match_the_schema(tmp_path: Path, target: str) -> None:
    root = write_dataset(tmp_path / "ds", detection_document(), missing=frozenset({"gone.jpg"}))
    report = convert_dataset(root, "dice", target).report.to_dict()
    assert validator("dice/conversion-report").errors(report) == []
    # The example dataset exercises the vocabularies: clipped boxes, background, empty boxes.
    assert set(report["objects_dropped"]) <= {r.value for r in DropReason}
    assert report["objects_dropped"][DropReason.BACKGROUND_CLASS] == 1
    assert report["objects_dropped"][DropReason.ZERO_AREA] == 2
    assert report["adjustments"][Adjustment.BOXES_CLIPPED] == 2
    assert report["images_missing"] == 1


def test_a_report_with_an_unknown_reason_is_rejected() -> None:
    example = validator("dice/conversion-report")
    from trainer_contract.validators import schema_documents

    report = dict(schema_documents()["dice/conversion-report"]["examples"][0])
    report["objects_dropped"] = {"lost_somewhere": 3}
    assert [e.path for e in example.errors(report)] == ["$.objects_dropped"]
