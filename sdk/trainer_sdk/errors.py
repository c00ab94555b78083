"""Exceptions of the SDK, each mapped onto an ErrorType and an exit code.

The hierarchy::

    TrainerSDKError                 (UnknownError, exit 1)
    ├── ConfigError                 (ConfigError, exit 1)   bad env var / CONFIG value
    ├── DatasetError                (DatasetError, exit 1)  missing, corrupt or unsafe dataset
    ├── CheckpointError             (CheckpointError, exit 1)
    ├── ResourceError               (ResourceError, exit 1) out of memory, disk full, no GPU
    ├── NetworkError                (NetworkError, exit 1)  S3 or endpoint unreachable
    │   └── CallbackDeliveryError   (NetworkError, exit 2)  the backend could not be reached
    │                                                       after every retry
    ├── PayloadValidationError      (ValidationError, exit 1) a payload broke its schema;
    │                                                       nothing was sent
    └── CallbackRejectedError       (ValidationError, exit 1) the backend answered a
                                                            non-retryable 4xx

Every error a user can meet carries the fix in its message. No message ever contains a secret.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from trainer_contract.error_type import ErrorType
from trainer_contract.exit_codes import ExitCode
from trainer_contract.validators import SchemaError

__all__ = [
    "CallbackDeliveryError",
    "CallbackRejectedError",
    "CheckpointError",
    "ConfigError",
    "DatasetError",
    "NetworkError",
    "NonFiniteMetricError",
    "PayloadValidationError",
    "ResourceError",
    "TrainerSDKError",
]


class TrainerSDKError(Exception):
    """Base class of every error the SDK raises on purpose."""

    error_type: ClassVar[ErrorType] = ErrorType.UNKNOWN_ERROR
    exit_code: ClassVar[int] = int(ExitCode.TRAINING_FAILURE)


class ConfigError(TrainerSDKError):
    """A configuration value (env var or `CONFIG` key) is missing, malformed or out of range."""

    error_type = ErrorType.CONFIG_ERROR


class DatasetError(TrainerSDKError):
    """The dataset is missing, corrupt, in the wrong format, or would escape its folder."""

    error_type = ErrorType.DATASET_ERROR


class CheckpointError(TrainerSDKError):
    """A checkpoint is missing, corrupt, or lives in an unexpected bucket."""

    error_type = ErrorType.CHECKPOINT_ERROR


class ResourceError(TrainerSDKError):
    """Out of memory (GPU included), disk full, or no GPU where one is required."""

    error_type = ErrorType.RESOURCE_ERROR


class NetworkError(TrainerSDKError):
    """An S3 endpoint or the backend could not be reached."""

    error_type = ErrorType.NETWORK_ERROR


class CallbackDeliveryError(NetworkError):
    """A callback could not be delivered after every retry; the job must exit with code 2."""

    exit_code = int(ExitCode.CALLBACK_FAILURE)


class PayloadValidationError(TrainerSDKError):
    """A payload (or a call's arguments) broke its schema; nothing was sent.

    `errors` lists every violation (`SchemaError`: JSON path, message, keyword) and `schema`
    names the contract schema that was broken.
    """

    error_type = ErrorType.VALIDATION_ERROR
    # Violations shown in the message; `errors` always has all of them.
    SHOWN: ClassVar[int] = 25

    def __init__(
        self, message: str, *, schema: str = "", errors: Sequence[SchemaError] = ()
    ) -> None:
        super().__init__(message)
        self.schema = schema
        self.errors: list[SchemaError] = list(errors)

    @classmethod
    def from_errors(
        cls, what: str, schema: str, errors: Sequence[SchemaError]
    ) -> PayloadValidationError:
        """Build the error for `what` (e.g. "report_progress arguments") from schema errors."""
        lines = "\n".join(
            f"  {error.path}: {error.message} [{error.keyword}]" for error in errors[: cls.SHOWN]
        )
        if len(errors) > cls.SHOWN:
            lines += f"\n  ... and {len(errors) - cls.SHOWN} more"
        return cls(
            f"{what}: {len(errors)} invalid field(s); nothing was sent.\n{lines}\n"
            f"Fix the values at the paths above (the rule is the contract schema {schema!r}).",
            schema=schema,
            errors=errors,
        )


class NonFiniteMetricError(PayloadValidationError):
    """A required metric of `report_progress` (the training loss) is NaN or infinite: the
    training diverged. ErrorType VALIDATION_ERROR; optional metrics are dropped instead."""


class CallbackRejectedError(TrainerSDKError):
    """The backend answered a callback with a non-retryable 4xx: the payload or URL is wrong."""

    error_type = ErrorType.VALIDATION_ERROR
