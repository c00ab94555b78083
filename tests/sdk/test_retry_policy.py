"""Backoff with full jitter, Retry-After parsing and which statuses are retried."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from trainer_sdk.delivery.retry import RetryPolicy, is_retryable_status, parse_retry_after


@pytest.mark.parametrize("status", [500, 502, 503, 504, 599, 408, 429])
def test_transient_statuses_are_retried(status: int) -> None:
    assert is_retryable_status(status)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 413, 422])
def test_other_client_errors_are_not_retried(status: int) -> None:
    assert not is_retryable_status(status)


def test_full_jitter_stays_under_the_exponential_ceiling_and_uses_the_whole_range() -> None:
    policy = RetryPolicy(max_retries=5, base_delay=2.0, max_delay=60.0)
    rng = random.Random(7)
    for retry_index, ceiling in [(0, 2.0), (1, 4.0), (2, 8.0), (3, 16.0), (5, 60.0), (50, 60.0)]:
        assert policy.ceiling(retry_index) == ceiling
        draws = [policy.delay(retry_index, rng=rng) for _ in range(2000)]
        assert all(0.0 <= d <= ceiling for d in draws)
        # Full jitter: draws spread over the whole interval, not bunched at the ceiling.
        assert min(draws) < ceiling * 0.05
        assert max(draws) > ceiling * 0.95


def test_retry_after_is_a_floor_and_is_bounded() -> None:
    policy = RetryPolicy(max_retries=3, base_delay=0.01, max_retry_after=30.0)
    rng = random.Random(1)
    assert all(policy.delay(0, retry_after=5.0, rng=rng) == 5.0 for _ in range(50))
    # A huge Retry-After must not park the job for a day.
    assert policy.delay(0, retry_after=86_400.0, rng=rng) == 30.0
    # A Retry-After shorter than the jittered draw does not shorten the wait below the draw.
    long_policy = RetryPolicy(max_retries=3, base_delay=100.0, max_delay=100.0)
    draws = [long_policy.delay(3, retry_after=1.0, rng=rng) for _ in range(200)]
    assert all(d >= 1.0 for d in draws) and max(draws) > 50.0


def test_parse_retry_after_seconds_and_http_date() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert (
        parse_retry_after(format_datetime(now + timedelta(seconds=42), usegmt=True), now=now)
        == 42.0
    )
    assert (
        parse_retry_after(format_datetime(now - timedelta(seconds=42), usegmt=True), now=now) == 0.0
    )
    for bad in [None, "", "soon", "nan", "inf"]:
        assert parse_retry_after(bad) is None


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"max_retries": -1, "base_delay": 1.0}, "max_retries"),
        ({"max_retries": 1, "base_delay": float("nan")}, "base_delay"),
        ({"max_retries": 1, "base_delay": -1.0}, "base_delay"),
    ],
)
def test_policy_rejects_nonsense(kwargs: dict[str, float], needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]
