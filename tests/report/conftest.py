"""Fixtures of the report tests: headless Chromium (required: a missing browser fails the tests)
and the dry-runs whose reports they open."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from trainer_tools.report.chromium import Chromium, find_chromium


@pytest.fixture(scope="session")
def chromium() -> Iterator[Chromium]:
    """One headless Chromium for the session. No skip: without it the tests fail, naming the fix."""
    find_chromium()  # raises ChromiumMissingError with the apt-get command
    with Chromium(width=1300, height=900) as browser:
        yield browser
