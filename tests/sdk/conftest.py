"""Fixtures for the SDK tests: a contract-shaped environment and a recording fake backend."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sdk_recording_backend import RecordingBackend

from trainer_sdk import TrainerSDK


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A minimal valid environment with fast retries and a private WORK_DIR."""
    return {
        "JOB_ID": "7",
        "CALLBACK_URL": "http://backend.test/api/v1",
        "WORK_DIR": str(tmp_path / "work"),
        "CALLBACK_RETRY_DELAY": "0.01",
        "CALLBACK_MAX_RETRIES": "2",
    }


@pytest.fixture
def backend() -> RecordingBackend:
    """A fresh recording backend."""
    return RecordingBackend()


@pytest.fixture
def make_sdk(env: dict[str, str], backend: RecordingBackend) -> Iterator[Callable[..., TrainerSDK]]:
    """Build TrainerSDKs on the recording backend; all are closed at the end of the test."""
    made: list[TrainerSDK] = []

    def factory(**overrides: Any) -> TrainerSDK:
        extra_env = overrides.pop("extra_env", {})
        sdk = TrainerSDK(env={**env, **extra_env}, http_transport=backend.transport(), **overrides)
        made.append(sdk)
        return sdk

    yield factory
    for sdk in made:
        sdk.close()
