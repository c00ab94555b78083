"""The reference backend as a process, fed malformed and oversized requests over a raw socket.

No malformed body is a 500: each gets a 4xx `application/problem+json`. The body size limit holds
while reading (the server's memory stays flat however much a client sends or claims to send), and
listening beyond loopback without a token is warned about.
"""

from __future__ import annotations

import json
import re
import select
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from backend_process import Backend

from trainer_contract.callbacks import ENDPOINTS
from trainer_tools.dev_backend.request_body import MAX_BODY_BYTES

TOKEN = "robustness-token"
# A progress-like endpoint with a job id in its path.
ENDPOINT = next(e for e in ENDPOINTS.values() if "{job_id}" in e.path and e.method == "POST")
MB = 1024 * 1024


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    server = Backend(tmp_path_factory.mktemp("backend"), "--token", TOKEN)
    yield server
    server.stop()
    assert "Traceback" not in server.log.read_text(), server.log.read_text()


def _connect(backend: Backend) -> socket.socket:
    return socket.create_connection(("127.0.0.1", backend.port), timeout=30)


def _head(path: str, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Authorization: Bearer {TOKEN}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (x.split(":", 1) for x in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return status, headers, rest[:length]


def _post(backend: Backend, path: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
    with _connect(backend) as sock:
        sock.sendall(
            _head(path, {"Content-Type": "application/json", "Content-Length": str(len(body))})
            + body
        )
        return _read_response(sock)


def _assert_problem(answer: tuple[int, dict[str, str], bytes], what: str) -> dict[str, object]:
    status, headers, body = answer
    assert 400 <= status < 500, f"{what}: HTTP {status} {body[:300]!r}"
    assert headers.get("content-type", "").startswith("application/problem+json"), (what, headers)
    document = json.loads(body)
    assert document["status"] == status and document["detail"], document
    return document


def _progress_path(job: str = "41") -> str:
    return ENDPOINT.path.replace("{job_id}", job)


MALFORMED = {
    "deep nesting": b"[" * 200_000 + b"]" * 200_000,
    "deep nesting in an object": b'{"job_id": 41, "epoch": 1, "x": '
    + b"[" * 100_000
    + b"]" * 100_000
    + b"}",
    "lone surrogate escape": b'{"job_id": 41, "message": "\\ud800", "epoch": 1}',
    "lone surrogate as a key": b'{"\\udfff": 1}',
    "a number beyond float": b'{"job_id": 41, "epoch": 1, "loss": 1e400}',
    "a negative number beyond float": b'{"job_id": 41, "epoch": 1, "metrics": {"loss": -1e400}}',
    "NaN literal": b'{"job_id": 41, "epoch": 1, "loss": NaN}',
    "Infinity literal": b'{"job_id": 41, "epoch": 1, "loss": -Infinity}',
    "an integer of 5000 digits": b'{"job_id": 41, "epoch": ' + b"9" * 5000 + b"}",
    "an integer of 50 digits": b'{"job_id": 41, "epoch": ' + b"9" * 50 + b"}",
    "invalid UTF-8": b'{"job_id": 41, "message": "\xff\xfe"}',
    "not JSON at all": b"\x00\x01\x02",
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_no_malformed_body_is_a_500(backend: Backend, name: str) -> None:
    _assert_problem(_post(backend, _progress_path(), MALFORMED[name]), name)


@pytest.mark.parametrize("digits", [20, 4301, 5000, 100_000 - 200])
def test_a_job_id_of_thousands_of_digits_is_a_4xx(backend: Backend, digits: int) -> None:
    path = _progress_path("9" * digits)
    _assert_problem(_post(backend, path, b'{"job_id": 1, "epoch": 1}'), f"{digits} digits")
    with _connect(backend) as sock:
        timeline = f"/jobs/{'7' * digits}/timeline"
        sock.sendall(
            f"GET {timeline} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n\r\n".encode()
        )
        answer = _read_response(sock)
    if answer[0] != 431:  # a request line too long for the HTTP parser is refused before the app
        _assert_problem(answer, f"timeline of {digits} digits")


def test_the_server_still_works_afterwards(backend: Backend) -> None:
    status, _, body = _post(backend, _progress_path("1"), b"{}")
    assert status == 422, body  # validated, not crashed


def _stream(
    backend: Backend, head: bytes, total: int, chunked: bool
) -> tuple[int, int, dict[str, str], bytes, float]:
    """Send `head` then up to `total` bytes of body; stop as soon as the server answers.

    Returns (bytes of body sent, status, headers, body, peak RSS of the server in MB)."""
    block = b"[" * MB
    sent = 0
    peak = backend.rss_mb()
    with _connect(backend) as sock:
        sock.sendall(head)
        answered = False
        while sent < total:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                answered = True
                break
            piece = (f"{len(block):x}\r\n".encode() + block + b"\r\n") if chunked else block
            try:
                sock.sendall(piece)
            except (BrokenPipeError, ConnectionResetError):
                answered = True
                break
            sent += len(block)
            if sent % (16 * MB) == 0:
                peak = max(peak, backend.rss_mb())
        if not answered and chunked:
            sock.sendall(b"0\r\n\r\n")
        sock.settimeout(30)
        status, headers, body = _read_response(sock)
    peak = max(peak, backend.rss_mb())
    return sent, status, headers, body, peak


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_400_mb_body_is_refused_while_reading_with_memory_flat(
    backend: Backend, chunked: bool
) -> None:
    total = 400 * MB
    framing = {"Transfer-Encoding": "chunked"} if chunked else {"Content-Length": str(total)}
    head = _head(_progress_path(), {"Content-Type": "application/json", **framing})
    before = backend.rss_mb()
    sent, status, headers, body, peak = _stream(backend, head, total, chunked)
    assert status == 413, body[:300]
    assert headers["content-type"].startswith("application/problem+json")
    assert str(MAX_BODY_BYTES) in json.loads(body)["detail"]
    # Refused at once: the client could not push more than the limit plus socket buffers.
    assert sent < MAX_BODY_BYTES + 32 * MB, sent
    assert peak - before < 40, f"server RSS grew from {before:.0f} MB to {peak:.0f} MB"


def test_a_lying_content_length_is_refused_at_once(backend: Backend) -> None:
    """Claiming 400 MB and sending a few bytes: 413 at once, without waiting for the rest."""
    head = _head(
        _progress_path(), {"Content-Type": "application/json", "Content-Length": str(400 * MB)}
    )
    with _connect(backend) as sock:
        sock.sendall(head + b'{"job_id": 41}')
        sock.settimeout(10)
        status, _, body = _read_response(sock)
    assert status == 413, body[:300]


def test_a_content_length_shorter_than_the_body_never_buffers_the_rest(backend: Backend) -> None:
    """Claiming 2 bytes and sending 100 MB: the rest is a garbled next request, refused."""
    before = backend.rss_mb()
    head = _head(_progress_path(), {"Content-Type": "application/json", "Content-Length": "2"})
    _, status, _, body, peak = _stream(backend, head + b"{}", 100 * MB, chunked=False)
    assert 400 <= status < 500, body[:300]
    assert peak - before < 40, f"server RSS grew from {before:.0f} MB to {peak:.0f} MB"


def test_listening_beyond_loopback_without_a_token_warns(tmp_path: Path) -> None:
    exposed = Backend(tmp_path, "--host", "0.0.0.0")
    exposed.stop()
    text = exposed.log.read_text()
    assert re.search(r"warning: .*0\.0\.0\.0.*without a token", text, re.IGNORECASE), text

    for quiet in (("--host", "127.0.0.1"), ("--host", "0.0.0.0", "--token", TOKEN)):
        server = Backend(tmp_path, *quiet)
        server.stop()
        assert "without a token" not in server.log.read_text(), server.log.read_text()
