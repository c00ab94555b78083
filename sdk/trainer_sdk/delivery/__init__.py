"""Callback delivery: one attempt (transport), when to retry (retry), ordered background
sending with coalescing (sender), and the crash-proof spool file (outbox)."""

from trainer_sdk.delivery.envelope import Envelope, encode_body
from trainer_sdk.delivery.outbox import (
    Outbox,
    OutboxBusyError,
    OutboxState,
    outbox_path,
    read_outbox,
)
from trainer_sdk.delivery.retry import RetryPolicy, is_retryable_status, parse_retry_after
from trainer_sdk.delivery.sender import CallbackSender, SenderStats
from trainer_sdk.delivery.transport import (
    FileTransport,
    HttpTransport,
    Outcome,
    SendResult,
    Transport,
    open_transport,
)

__all__ = [
    "CallbackSender",
    "Envelope",
    "FileTransport",
    "HttpTransport",
    "Outbox",
    "OutboxBusyError",
    "OutboxState",
    "Outcome",
    "RetryPolicy",
    "SendResult",
    "SenderStats",
    "Transport",
    "encode_body",
    "is_retryable_status",
    "open_transport",
    "outbox_path",
    "parse_retry_after",
    "read_outbox",
]
