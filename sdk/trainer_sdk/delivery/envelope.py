"""The unit of delivery: one callback request, addressed and serialised once."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from trainer_sdk.unicode_text import utf8_safe

__all__ = ["Envelope", "encode_body"]


def encode_body(body: Mapping[str, Any]) -> bytes:
    """Serialise a payload as compact UTF-8 JSON; NaN and infinity are refused (JSON has neither).

    A lone surrogate left in a string (a file name from `os.listdir`) is sent as U+FFFD instead
    of failing the callback.
    """
    text = json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    try:
        return text.encode()
    except UnicodeEncodeError:
        return utf8_safe(text).encode()


@dataclass(frozen=True, slots=True)
class Envelope:
    """One callback: where it goes, its body, and the identity that survives retries and restarts.

    `seq` orders callbacks within a job (the outbox and the sender keep that order); `key` is the
    `Idempotency-Key` header, fixed when the callback is created and reused by every retry and
    every replay, so the backend can drop duplicates. `coalescable` marks progress updates that
    a newer one may replace when the queue is full. `deferrable` marks callbacks sent in the
    background (logs, progress, validation results): one the backend keeps refusing may be set
    aside as a dead letter so that it does not block the ones behind it; a start, completion or
    failure never is.
    """

    seq: int
    key: str
    endpoint: str
    method: str
    path: str
    content: bytes
    coalescable: bool = False
    created_at: str = ""
    deferrable: bool = False

    def body(self) -> Any:
        """The decoded JSON body."""
        return json.loads(self.content)

    def describe(self) -> str:
        """A short human description: `progress #12 (POST /training/jobs/7/callback/progress)`."""
        return f"{self.endpoint} #{self.seq} ({self.method} {self.path})"
