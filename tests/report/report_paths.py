"""Paths shared by the report tests (a module of its own: every test folder has a `conftest`)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Kept after the run as CI artifacts (build/ is ignored by git).
SCREENSHOTS = ROOT / "build" / "report-screenshots"
SCENARIO_TRAINER = Path(__file__).with_name("scenario_trainer.py")
