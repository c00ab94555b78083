"""Names shared by the S3 fixtures of `tests/conftest.py` and the tests that use them.

A module of its own (not `from conftest import ...`): several folders have a `conftest.py`, and
which one the name `conftest` means depends on the order pytest loads them.
"""

from __future__ import annotations

from collections.abc import Callable

from trainer_contract.env import ENV_VARS

DATASETS_BUCKET: str = ENV_VARS["EXTERNAL_BUCKET_DATASETS"].default
CHECKPOINTS_BUCKET: str = ENV_VARS["INTERNAL_BUCKET_CHECKPOINTS"].default

# `storage_env(**overrides)` -> the storage env vars of the contract for the test server.
StorageEnv = Callable[..., dict[str, str]]
