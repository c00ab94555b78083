"""When to retry a callback and how long to wait: exponential backoff with full jitter.

The platform contract says 5xx, 408, 429, timeouts and connection errors are retried and every
other 4xx is not (the payload is wrong; sending it again cannot help). Delays follow the "full
jitter" scheme (a uniform draw between 0 and the exponential ceiling) so that many trainers
retrying against one recovering backend do not arrive in lockstep; a `Retry-After` from the
backend is a floor the SDK never undercuts.
"""

from __future__ import annotations

import email.utils
import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = ["RetryPolicy", "is_refusal_status", "is_retryable_status", "parse_retry_after"]

# Status codes that mean "try again later" rather than "your request is wrong" (RFC 9110).
_RETRYABLE_CLIENT_STATUSES = frozenset({408, 425, 429})
# Server errors that say the backend is not there (a gateway, an overloaded or restarting
# service), as opposed to the backend having failed on this very request.
_UNAVAILABLE_STATUSES = frozenset({502, 503, 504})


def is_retryable_status(status: int) -> bool:
    """True for 5xx, 408 (timeout), 425 (too early) and 429 (rate limited)."""
    return status >= 500 or status in _RETRYABLE_CLIENT_STATUSES


def is_refusal_status(status: int | None) -> bool:
    """True when the backend answered and failed on this request (500, 501, 505...): sending
    the same callback again is unlikely to help, while the callbacks behind it may go through.

    502, 503 and 504 (the backend is unavailable), 408, 429 and connection errors (no status)
    are outages, not refusals: everything behind the callback would fail the same way.
    """
    return status is not None and status >= 500 and status not in _UNAVAILABLE_STATUSES


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or HTTP-date), or None.

    Malformed values are ignored (None) rather than trusted: a bad header must not stall a job.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How many times to retry and how long to wait between attempts.

    `max_retries` and `base_delay` come from `CALLBACK_MAX_RETRIES` / `CALLBACK_RETRY_DELAY`.
    Attempt `n` (0 = the first retry) waits a uniform draw in `[0, min(max_delay, base_delay *
    2**n)]`, or the backend's `Retry-After` when that is longer (bounded by `max_retry_after`, so
    a broken header cannot park a job for hours).
    """

    max_retries: int
    base_delay: float
    max_delay: float = 60.0
    max_retry_after: float = 300.0

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {self.max_retries}")
        if not (math.isfinite(self.base_delay) and self.base_delay >= 0):
            raise ValueError(f"base_delay must be a finite number >= 0, got {self.base_delay}")
        if not (math.isfinite(self.max_delay) and self.max_delay >= 0):
            raise ValueError(f"max_delay must be a finite number >= 0, got {self.max_delay}")

    def ceiling(self, retry_index: int) -> float:
        """The upper bound of the jittered delay before retry number `retry_index` (0-based)."""
        # Cap the exponent: 2**1100 overflows a float, and the ceiling is capped anyway.
        exponent = min(max(retry_index, 0), 60)
        return min(self.max_delay, self.base_delay * (2.0**exponent))

    def delay(
        self,
        retry_index: int,
        retry_after: float | None = None,
        rng: random.Random | None = None,
    ) -> float:
        """Seconds to wait before retry number `retry_index`, honouring `retry_after`."""
        draw = (rng or random).uniform(0.0, self.ceiling(retry_index))
        if retry_after is not None:
            return max(draw, min(retry_after, self.max_retry_after))
        return draw
