"""One attempt over HTTP (fault injection with httpx.MockTransport) and the file:// sink."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from trainer_sdk.delivery.envelope import Envelope, encode_body
from trainer_sdk.delivery.transport import FileTransport, HttpTransport, Outcome, open_transport

BASE = "http://backend.test:8000/api/v1"


def _envelope(seq: int = 1) -> Envelope:
    return Envelope(
        seq=seq,
        key=f"key-{seq}",
        endpoint="progress",
        method="POST",
        path="/training/jobs/7/callback/progress",
        content=encode_body({"job_id": 7, "current_epoch": seq}),
    )


def _http(handler: httpx.MockTransport, token: str | None = None) -> HttpTransport:
    return HttpTransport(
        BASE, user_agent="trainer-sdk/9.9", timeout=2.0, token=token, transport=handler
    )


def test_success_sends_body_headers_and_url() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"success": True, "message": "ok", "job_status": "running"})

    result = _http(httpx.MockTransport(handler), token="tok-123456").send(_envelope())
    assert result.outcome is Outcome.DELIVERED and result.status == 200
    (request,) = seen
    assert str(request.url) == BASE + "/training/jobs/7/callback/progress"
    assert request.headers["Idempotency-Key"] == "key-1"
    assert request.headers["User-Agent"].startswith("trainer-sdk/9.9")
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Authorization"] == "Bearer tok-123456"
    assert json.loads(request.content) == {"job_id": 7, "current_epoch": 1}


@pytest.mark.parametrize("status", [500, 502, 503, 408])
def test_server_errors_are_retryable(status: int) -> None:
    transport = _http(httpx.MockTransport(lambda r: httpx.Response(status, text="busy")))
    result = transport.send(_envelope())
    assert result.outcome is Outcome.RETRY
    assert result.status == status
    assert f"HTTP {status}" in result.detail and "busy" in result.detail


def test_429_carries_retry_after() -> None:
    transport = _http(
        httpx.MockTransport(lambda r: httpx.Response(429, headers={"Retry-After": "7"}))
    )
    result = transport.send(_envelope())
    assert result.outcome is Outcome.RETRY and result.retry_after == 7.0


def test_400_is_rejected_with_the_backends_message() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            422, json={"detail": [{"loc": ["body", "total_epochs"], "msg": "must be > 0"}]}
        )

    result = _http(httpx.MockTransport(handler)).send(_envelope())
    assert result.outcome is Outcome.REJECTED and result.status == 422
    assert "total_epochs" in result.detail and "must be > 0" in result.detail


@pytest.mark.parametrize(
    "exc",
    [
        httpx.ConnectError("[Errno 111] Connection refused"),
        httpx.ReadError("[Errno 104] Connection reset by peer"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        httpx.ReadTimeout("timed out"),
        httpx.ConnectTimeout("timed out"),
        httpx.PoolTimeout("timed out"),
    ],
)
def test_network_faults_are_retryable(exc: Exception) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    result = _http(httpx.MockTransport(handler)).send(_envelope())
    assert result.outcome is Outcome.RETRY and result.status is None
    assert result.detail


def test_error_detail_never_contains_url_credentials() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot reach {request.url}")

    transport = HttpTransport(
        "http://user:hunter22@backend.test/api?token=abcdef123",
        user_agent="ua",
        timeout=1.0,
        transport=httpx.MockTransport(handler),
    )
    result = transport.send(_envelope())
    assert "hunter22" not in result.detail and "abcdef123" not in result.detail
    assert "hunter22" not in transport.describe() and "abcdef123" not in transport.describe()


def test_file_sink_writes_endpoint_headers_and_body(tmp_path: Path) -> None:
    target = tmp_path / "out" / "callbacks.jsonl"
    transport = open_transport(target.as_uri(), user_agent="trainer-sdk/1", timeout=1.0)
    assert isinstance(transport, FileTransport)
    assert transport.send(_envelope(1)).outcome is Outcome.DELIVERED
    assert transport.send(_envelope(2)).outcome is Outcome.DELIVERED
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert [line["body"]["current_epoch"] for line in lines] == [1, 2]
    assert lines[0]["endpoint"] == "progress"
    assert lines[0]["path"] == "/training/jobs/7/callback/progress"
    assert lines[0]["headers"]["Idempotency-Key"] == "key-1"
    assert lines[0]["timestamp"].endswith("Z")


def test_unknown_scheme_is_refused_without_leaking_credentials() -> None:
    with pytest.raises(ValueError, match="CALLBACK_URL") as info:
        open_transport("ftp://me:pa55word@host/x", user_agent="ua", timeout=1.0)
    assert "pa55word" not in str(info.value)


@pytest.mark.parametrize(
    "path",
    [
        "@127.0.0.1:9/steal",
        "//127.0.0.1:9/steal",
        "training/jobs/1/callback/logs",
        "/a@127.0.0.1:9/steal",
        "\\\\127.0.0.1:9/steal",
    ],
)
def test_a_path_that_would_leave_the_backend_is_refused_unsent(path: str) -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200)

    transport = HttpTransport(
        "http://backend.test/api/v1",
        user_agent="t",
        timeout=1.0,
        token="secret-token",
        transport=httpx.MockTransport(handler),
    )
    envelope = Envelope(1, "k", "training_logs", "POST", path, b"{}")
    result = transport.send(envelope)
    assert result.outcome is Outcome.REJECTED and "would leave CALLBACK_URL" in result.detail
    assert sent == []
