"""Fixtures of the report tests: headless Chromium (required: a missing browser fails the tests)
and the dry-runs whose reports they open."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from trainer_tools.report.chromium import Chromium, find_chromium

ROOT = Path(__file__).resolve().parents[2]
# Kept after the run as CI artifacts (build/ is ignored by git).
SCREENSHOTS = ROOT / "build" / "report-screenshots"
SCENARIO_TRAINER = Path(__file__).with_name("scenario_trainer.py")


@pytest.fixture(scope="session")
def chromium() -> Iterator[Chromium]:
    """One headless Chromium for the session. No skip: without it the tests fail, naming the fix."""
    find_chromium()  # raises ChromiumMissingError with the apt-get command
    with Chromium(width=1300, height=900) as browser:
        yield browser
