"""Which ErrorType an exception is, for failure reports and exit codes.

The SDK's own exceptions carry their ErrorType. Out-of-memory errors are recognised without
importing any framework: `MemoryError`, torch's `OutOfMemoryError` (matched by class name, so
torch is never imported here) and the `RuntimeError("CUDA out of memory ...")` older torch
versions raise. A full disk is a resource error too; connection failures are network errors.
Everything else is UNKNOWN_ERROR.
"""

from __future__ import annotations

import errno

from trainer_contract.error_type import ErrorType
from trainer_sdk.errors import TrainerSDKError

__all__ = ["error_type_for", "is_out_of_memory"]

_OOM_CLASS_NAMES = frozenset({"OutOfMemoryError", "OutOfMemory", "ResourceExhaustedError"})
_OOM_MESSAGES = ("out of memory", "cuda error: out of memory", "cublas_status_alloc_failed")
_FULL_DISK = frozenset({errno.ENOSPC, errno.EDQUOT})
_NETWORK_CLASS_NAMES = frozenset(
    {"EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError", "TransportError"}
)


def is_out_of_memory(exc: BaseException) -> bool:
    """True for host and GPU out-of-memory errors of any framework."""
    if isinstance(exc, MemoryError):
        return True
    if any(cls.__name__ in _OOM_CLASS_NAMES for cls in type(exc).__mro__):
        return True
    if isinstance(exc, RuntimeError):
        text = str(exc).lower()
        return any(marker in text for marker in _OOM_MESSAGES)
    return False


def error_type_for(exc: BaseException) -> ErrorType:
    """The ErrorType a failure report should carry for `exc`."""
    if isinstance(exc, TrainerSDKError):
        return exc.error_type
    if is_out_of_memory(exc):
        return ErrorType.RESOURCE_ERROR
    if isinstance(exc, OSError) and exc.errno in _FULL_DISK:
        return ErrorType.RESOURCE_ERROR
    if isinstance(exc, ConnectionError) or any(
        cls.__name__ in _NETWORK_CLASS_NAMES for cls in type(exc).__mro__
    ):
        return ErrorType.NETWORK_ERROR
    return ErrorType.UNKNOWN_ERROR
