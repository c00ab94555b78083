"""trainer_sdk: the runtime a custom trainer imports to talk to the training platform.

    from trainer_sdk import TrainerSDK, ErrorType

Callbacks are validated against the contract before they leave the process, delivered in order
by a background sender that never blocks training, and spooled to an outbox so that none is
lost. `run(main)` maps a trainer's outcome onto the contract's exit codes.
"""

from trainer_contract.error_type import ErrorType
from trainer_contract.exit_codes import ExitCode
from trainer_sdk.client import TrainerSDK
from trainer_sdk.errors import (
    CallbackDeliveryError,
    CallbackRejectedError,
    CheckpointError,
    ConfigError,
    DatasetError,
    NetworkError,
    NonFiniteMetricError,
    PayloadValidationError,
    ResourceError,
    TrainerSDKError,
)
from trainer_sdk.logging_bridge import CallbackLogHandler
from trainer_sdk.runner import Terminated, run
from trainer_sdk.version import __version__

__all__ = [
    "CallbackDeliveryError",
    "CallbackLogHandler",
    "CallbackRejectedError",
    "CheckpointError",
    "ConfigError",
    "DatasetError",
    "ErrorType",
    "ExitCode",
    "NetworkError",
    "NonFiniteMetricError",
    "PayloadValidationError",
    "ResourceError",
    "Terminated",
    "TrainerSDK",
    "TrainerSDKError",
    "__version__",
    "run",
]
