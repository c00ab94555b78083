"""The user's guide's own minimal trainer runs unmodified and passes the dry-run.

`tests/lint/fixtures/trainers/guide_minimal.py` is the guide's "최소 구현 예제" copied verbatim
(the linter's tests pin its expected findings). Here it runs end to end: report_started,
download_dataset (with the dataset id parsed from DATASET_S3_URI, as the guide does),
convert_dataset(dir, 'dice', 'yolo'), report_progress per epoch, report_completed, close.
The guide hard-codes `/tmp/dataset`; the run writes there, as it would in a pod.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from trainer_tools.dry_run import CHECK_NAMES, DryRunOptions, dry_run
from trainer_tools.services.seaweed import SeaweedServer

ROOT = Path(__file__).resolve().parents[2]
GUIDE_MINIMAL = ROOT / "tests" / "lint" / "fixtures" / "trainers" / "guide_minimal.py"

pytestmark = pytest.mark.s3


def test_the_guides_minimal_example_passes_every_check(seaweed: SeaweedServer) -> None:
    lines: list[str] = []
    options = DryRunOptions(
        train_py=GUIDE_MINIMAL,
        dataset=ROOT / "examples" / "data",
        epochs=4,
        env={"JOB_ID": "301"},
        timeout=120.0,
    )
    result = dry_run(options, say=lines.append, stream=lines.append, s3_server=seaweed)
    assert result.verdict.ok, "\n".join(lines)
    assert [c.name for c in result.verdict.checks] == list(CHECK_NAMES)
    assert result.run is not None and result.run.exit_code == 0
    assert "epochs 0..4" in result.verdict.check("lifecycle_in_order").summary
    endpoints = [entry.endpoint for entry in result.timeline]
    assert endpoints.count("training_progress") == 5  # started + 4 epochs
    assert endpoints[-1] == "training_completion"
