"""Sending one envelope once: over HTTP with explicit timeouts, or into a JSONL file.

A transport makes exactly one attempt and classifies the outcome; retrying, ordering and
spooling are the sender's job. Keeping the attempt pure makes fault injection simple: tests
give `HttpTransport` an `httpx.MockTransport` (or any `httpx.BaseTransport`).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

import httpx

from trainer_contract.callbacks import IDEMPOTENCY_HEADER
from trainer_sdk.delivery.envelope import Envelope
from trainer_sdk.delivery.retry import is_retryable_status, parse_retry_after
from trainer_sdk.redaction import redact_url

__all__ = [
    "FileTransport",
    "HttpTransport",
    "Outcome",
    "SendResult",
    "Transport",
    "open_transport",
]

# Longest backend message quoted in an error: enough for a validation error, not a whole HTML page.
_MAX_DETAIL = 500
_log = logging.getLogger("trainer_sdk.delivery")


def bearer_base_url(base_url: str, token: str | None) -> str:
    """`base_url` without `user:password@` when a bearer token is configured.

    One `Authorization` header cannot carry both: httpx would turn the URL's credentials into
    Basic auth and drop the bearer token, the contract's authentication. The token wins, and a
    warning (credentials masked) says so. Without a token the URL is left as it is (a proxy with
    Basic auth in front of the backend still works).
    """
    url = httpx.URL(base_url)
    if not token or not url.userinfo:
        return base_url
    _log.warning(
        "%s carries credentials (user:***@) and a bearer token is configured: the token is sent "
        "and the URL's credentials are not (one Authorization header cannot carry both)",
        redact_url(base_url),
    )
    return str(url.copy_with(userinfo=b""))


class Outcome(Enum):
    """What one attempt achieved."""

    DELIVERED = "delivered"
    RETRY = "retry"  # transient: 5xx, 408, 429, timeout, connection error
    REJECTED = "rejected"  # permanent: any other 4xx; resending cannot help


@dataclass(frozen=True, slots=True)
class SendResult:
    """The classified result of one attempt; `detail` is safe to show (no secrets, no URL)."""

    outcome: Outcome
    status: int | None = None
    retry_after: float | None = None
    detail: str = ""


class Transport(Protocol):
    """Makes one attempt to deliver an envelope."""

    def send(self, envelope: Envelope, timeout: float | None = None) -> SendResult:
        """Deliver once and classify the outcome; never raises for network failures.

        `timeout` (seconds) bounds this attempt more tightly than the configured timeout.
        """
        ...

    def close(self) -> None:
        """Release connections and files."""
        ...

    def describe(self) -> str:
        """Where callbacks go, with credentials masked."""
        ...


def _backend_message(response: httpx.Response) -> str:
    """The backend's own explanation from an error response, trimmed."""
    text = ""
    try:
        data = response.json()
    except (ValueError, UnicodeDecodeError):
        text = response.text
    else:
        if isinstance(data, Mapping):
            for field in ("detail", "message", "error", "title"):
                if field in data:
                    value = data[field]
                    text = value if isinstance(value, str) else json.dumps(value)
                    break
            else:
                text = json.dumps(data)
        else:
            text = json.dumps(data)
    text = " ".join(text.split())
    return text[:_MAX_DETAIL] + ("..." if len(text) > _MAX_DETAIL else "")


class HttpTransport:
    """POSTs envelopes to `CALLBACK_URL` + path with httpx.

    Every request carries `Content-Type: application/json`, the envelope's `Idempotency-Key` and a
    `User-Agent` naming the SDK version; `Authorization: Bearer` when a token is configured.
    Timeouts are explicit: a backend that accepts the connection and then hangs costs at most
    `timeout` seconds per attempt, never the whole job.
    """

    def __init__(
        self,
        base_url: str,
        *,
        user_agent: str,
        timeout: float,
        token: str | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._base = bearer_base_url(base_url, token).rstrip("/")
        self._base_url = httpx.URL(self._base)
        headers = {"User-Agent": user_agent, "Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._client = httpx.Client(
            headers=headers,
            # Connecting to a live backend takes milliseconds; a short connect timeout finds a dead
            # one fast, while reads get the full budget for a slow but working backend.
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            transport=transport,
            follow_redirects=False,
            trust_env=False,
        )

    def _url(self, path: str) -> httpx.URL | None:
        """`CALLBACK_URL` + `path`, or None when the result would leave the backend (a path
        that is not absolute, or that smuggles in a host as `//host` or `@host`)."""
        if not path.startswith("/") or path.startswith("//") or "@" in path or "\\" in path:
            return None
        try:
            url = httpx.URL(self._base + path)
        except (httpx.InvalidURL, ValueError):
            return None
        base = self._base_url
        if (url.scheme, url.host, url.port, url.userinfo) != (
            base.scheme,
            base.host,
            base.port,
            base.userinfo,
        ) or not url.path.startswith(base.path.rstrip("/") + "/"):
            return None
        return url

    def send(self, envelope: Envelope, timeout: float | None = None) -> SendResult:
        """POST the envelope once and classify the response (within `timeout` when given)."""
        url = self._url(envelope.path)
        if url is None:
            return SendResult(
                Outcome.REJECTED,
                detail=f"refused to send: the path {envelope.path[:120]!r} would leave CALLBACK_URL",
            )
        try:
            response = self._client.request(
                envelope.method,
                url,
                content=envelope.content,
                headers={IDEMPOTENCY_HEADER: envelope.key},
                timeout=(
                    httpx.Timeout(timeout, connect=min(timeout, 5.0))
                    if timeout is not None
                    else httpx.USE_CLIENT_DEFAULT
                ),
            )
        except httpx.TimeoutException as exc:
            return SendResult(Outcome.RETRY, detail=f"timed out ({type(exc).__name__})")
        except httpx.TransportError as exc:
            # str(exc) of a transport error is the OS reason ("[Errno 111] Connection refused");
            # redact anyway in case a proxy put the URL in it.
            reason = redact_url(str(exc)) or type(exc).__name__
            return SendResult(Outcome.RETRY, detail=f"connection failed: {reason}")
        status = response.status_code
        if 200 <= status < 300:
            return SendResult(Outcome.DELIVERED, status=status)
        message = _backend_message(response)
        detail = f"HTTP {status} {response.reason_phrase}" + (f": {message}" if message else "")
        if is_retryable_status(status):
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            return SendResult(Outcome.RETRY, status=status, retry_after=retry_after, detail=detail)
        return SendResult(Outcome.REJECTED, status=status, detail=detail)

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def describe(self) -> str:
        """The base URL with credentials masked."""
        return redact_url(self._base)


class FileTransport:
    """Appends each validated callback, with endpoint and headers, as one line of a JSONL file.

    Used when `CALLBACK_URL` is `file:///path/callbacks.jsonl`: a trainer runs on a laptop without
    a backend and the file shows exactly what would have been sent.
    """

    def __init__(self, path: Path, *, user_agent: str) -> None:
        self._path = path
        self._user_agent = user_agent
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)

    @property
    def path(self) -> Path:
        """The JSONL file."""
        return self._path

    def send(self, envelope: Envelope, timeout: float | None = None) -> SendResult:
        """Append one line: timestamp, endpoint, method, path, headers and body."""
        record = {
            "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "endpoint": envelope.endpoint,
            "method": envelope.method,
            "path": envelope.path,
            "headers": {
                "Content-Type": "application/json",
                IDEMPOTENCY_HEADER: envelope.key,
                "User-Agent": self._user_agent,
            },
            "body": envelope.body(),
        }
        line = (json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n").encode()
        try:
            with self._lock:
                fd = os.open(self._path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                try:
                    os.write(fd, line)
                finally:
                    os.close(fd)
        except OSError as exc:
            return SendResult(Outcome.RETRY, detail=f"cannot write {self._path.name}: {exc}")
        return SendResult(Outcome.DELIVERED)

    def close(self) -> None:
        """Nothing to release: the file is opened per write."""

    def describe(self) -> str:
        """The file URL."""
        return self._path.as_uri()


def open_transport(
    callback_url: str,
    *,
    user_agent: str,
    timeout: float,
    token: str | None = None,
    http_transport: httpx.BaseTransport | None = None,
) -> Transport:
    """The transport for `callback_url`: a JSONL file for `file://`, httpx for `http(s)://`."""
    parts = urlsplit(callback_url)
    if parts.scheme == "file":
        path = Path(unquote(parts.path))
        return FileTransport(path, user_agent=user_agent)
    if parts.scheme in ("http", "https"):
        return HttpTransport(
            callback_url,
            user_agent=user_agent,
            timeout=timeout,
            token=token,
            transport=http_transport,
        )
    raise ValueError(
        f"CALLBACK_URL must start with http://, https:// or file://, got {redact_url(callback_url)!r}"
    )
