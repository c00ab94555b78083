"""Shared pytest fixtures. Each block belongs to one area; add yours below in its own block."""

from __future__ import annotations

# ==== single-file SDK hook: bundle area (must stay first) =========================================
# TRAINER_SDK_BUNDLE=dist/trainer_sdk.py runs the tests against the bundle built by `make bundle`:
# the import loads it as `trainer_sdk` before anything below imports the installed package.
import trainer_tools.bundle.under_test  # noqa: F401

# isort: split
# ==== end of the single-file SDK hook =============================================================

# ==== S3 (SeaweedFS) fixtures: storage area ======================================================
# `seaweed`: one real S3 server for the whole session (both contract buckets created).
# `storage_env`: builds the contract's storage env vars pointing at it.
from collections.abc import Iterator
from pathlib import Path

import pytest
from s3_support import CHECKPOINTS_BUCKET, DATASETS_BUCKET, StorageEnv

from trainer_contract.env import ENV_VARS
from trainer_tools.services.seaweed import SeaweedServer


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedServer]:
    """A SeaweedFS S3 server on free loopback ports with both contract buckets."""
    server = SeaweedServer(
        tmp_path_factory.mktemp("seaweed"),
        access_key="test-access-key",
        secret_key="test-secret-key-do-not-log",
    )
    server.start()
    try:
        server.create_bucket(DATASETS_BUCKET)
        server.create_bucket(CHECKPOINTS_BUCKET)
        yield server
    finally:
        server.stop()


@pytest.fixture
def storage_env(seaweed: SeaweedServer, tmp_path: Path) -> StorageEnv:
    """`storage_env(**overrides)`: the storage and cache env vars for `seaweed` (cache in tmp)."""

    def make(**overrides: str) -> dict[str, str]:
        env = {
            "EXTERNAL_STORAGE_ENDPOINT": seaweed.endpoint,
            "EXTERNAL_STORAGE_ACCESS_KEY": seaweed.access_key,
            "EXTERNAL_STORAGE_SECRET_KEY": seaweed.secret_key,
            "EXTERNAL_BUCKET_DATASETS": DATASETS_BUCKET,
            "INTERNAL_STORAGE_ENDPOINT": seaweed.endpoint,
            "INTERNAL_STORAGE_ACCESS_KEY": seaweed.access_key,
            "INTERNAL_STORAGE_SECRET_KEY": seaweed.secret_key,
            "INTERNAL_BUCKET_CHECKPOINTS": CHECKPOINTS_BUCKET,
            "DATASET_CACHE_DIR": str(tmp_path / "dataset-cache"),
        }
        unknown = set(env) - set(ENV_VARS)
        assert not unknown, f"the env contract lost {sorted(unknown)}"
        env.update(overrides)
        return env

    return make


# ==== end of S3 fixtures ==========================================================================
