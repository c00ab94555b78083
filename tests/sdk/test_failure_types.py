"""Exceptions map onto the contract's ErrorType."""

from __future__ import annotations

import errno

import pytest

from trainer_sdk import (
    CallbackDeliveryError,
    CheckpointError,
    ConfigError,
    DatasetError,
    ErrorType,
    NetworkError,
    ResourceError,
)
from trainer_sdk.failure_types import error_type_for


class OutOfMemoryError(RuntimeError):
    """Stands in for torch.cuda.OutOfMemoryError (matched by name; torch is not installed)."""


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (MemoryError(), ErrorType.RESOURCE_ERROR),
        (
            OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"),
            ErrorType.RESOURCE_ERROR,
        ),
        (RuntimeError("CUDA error: out of memory"), ErrorType.RESOURCE_ERROR),
        (OSError(errno.ENOSPC, "No space left on device"), ErrorType.RESOURCE_ERROR),
        (ResourceError("no GPU"), ErrorType.RESOURCE_ERROR),
        (DatasetError("corrupt"), ErrorType.DATASET_ERROR),
        (ConfigError("bad"), ErrorType.CONFIG_ERROR),
        (CheckpointError("missing"), ErrorType.CHECKPOINT_ERROR),
        (NetworkError("s3 down"), ErrorType.NETWORK_ERROR),
        (CallbackDeliveryError("backend down"), ErrorType.NETWORK_ERROR),
        (ConnectionResetError(), ErrorType.NETWORK_ERROR),
        (RuntimeError("shapes do not match"), ErrorType.UNKNOWN_ERROR),
        (ValueError("x"), ErrorType.UNKNOWN_ERROR),
        (KeyboardInterrupt(), ErrorType.UNKNOWN_ERROR),
    ],
)
def test_error_type_for(exc: BaseException, expected: ErrorType) -> None:
    assert error_type_for(exc) is expected


def test_exit_codes_of_the_hierarchy() -> None:
    assert CallbackDeliveryError.exit_code == 2
    assert DatasetError.exit_code == ConfigError.exit_code == 1
