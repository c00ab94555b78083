"""The ordered background sender against injected faults (no network)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from trainer_sdk.delivery.envelope import encode_body
from trainer_sdk.delivery.outbox import Outbox, outbox_path, read_outbox
from trainer_sdk.delivery.retry import RetryPolicy
from trainer_sdk.delivery.sender import CallbackSender
from trainer_sdk.delivery.transport import HttpTransport
from trainer_sdk.errors import CallbackDeliveryError, CallbackRejectedError

PATH = "/training/jobs/5/callback/progress"
COMPLETION = "/training/jobs/5/callback/completion"
FAST = RetryPolicy(max_retries=3, base_delay=0.01, max_delay=0.05)

Handler = Callable[[httpx.Request], httpx.Response]


class Backend:
    """Records requests; `behaviour` decides each answer."""

    def __init__(self, behaviour: Handler | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.behaviour = behaviour or (lambda r: httpx.Response(200, json={"success": True}))
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.requests.append(request)
        return self.behaviour(request)

    def bodies(self) -> list[dict[str, object]]:
        with self.lock:
            return [json.loads(r.content) for r in self.requests]

    def keys(self) -> list[str]:
        with self.lock:
            return [r.headers["Idempotency-Key"] for r in self.requests]


def _sender(
    backend: Backend, tmp_path: Path | None = None, policy: RetryPolicy = FAST, capacity: int = 1000
) -> CallbackSender:
    transport = HttpTransport(
        "http://backend.test/api/v1",
        user_agent="t",
        timeout=1.0,
        transport=httpx.MockTransport(backend),
    )
    outbox = Outbox(outbox_path(tmp_path, 5)) if tmp_path is not None else None
    return CallbackSender(transport, policy, outbox, capacity=capacity)


def _post(sender: CallbackSender, n: int, *, coalescable: bool = False) -> None:
    sender.post("training_progress", "POST", PATH, encode_body({"n": n}), coalescable=coalescable)


def test_delivers_in_order_and_post_returns_before_delivery(tmp_path: Path) -> None:
    gate = threading.Event()

    def slow(request: httpx.Request) -> httpx.Response:
        gate.wait(5)
        return httpx.Response(200)

    backend = Backend(slow)
    sender = _sender(backend, tmp_path)
    for n in range(20):
        _post(sender, n)
    assert sender.pending >= 19  # nothing waited for the backend
    gate.set()
    assert sender.flush(timeout=10)
    assert [b["n"] for b in backend.bodies()] == list(range(20))
    assert len(set(backend.keys())) == 20
    sender.close()
    assert read_outbox(outbox_path(tmp_path, 5)).pending == ()


def test_500s_then_success_keep_one_key_per_callback(tmp_path: Path) -> None:
    answers = iter([500, 503, 200, 200])
    backend = Backend(lambda r: httpx.Response(next(answers)))
    sender = _sender(backend, tmp_path)
    _post(sender, 1)
    _post(sender, 2)
    assert sender.flush(timeout=10)
    sender.close()
    assert [b["n"] for b in backend.bodies()] == [1, 1, 1, 2]
    keys = backend.keys()
    assert keys[0] == keys[1] == keys[2] != keys[3]
    assert sender.stats.retries == 2 and sender.stats.delivered == 2


def test_connection_reset_and_timeouts_are_retried(tmp_path: Path) -> None:
    faults: list[Exception] = [
        httpx.ReadError("[Errno 104] Connection reset by peer"),
        httpx.ReadTimeout("timed out"),
        httpx.ConnectError("[Errno 111] Connection refused"),
    ]

    def flaky(request: httpx.Request) -> httpx.Response:
        if faults:
            raise faults.pop(0)
        return httpx.Response(200)

    backend = Backend(flaky)
    sender = _sender(backend, tmp_path)
    sender.send("training_completion", "POST", COMPLETION, encode_body({"n": 1}))
    sender.close()
    assert len(backend.requests) == 4 and len(set(backend.keys())) == 1


def test_retry_after_is_honoured() -> None:
    stamps: list[float] = []

    def limited(request: httpx.Request) -> httpx.Response:
        stamps.append(time.monotonic())
        if len(stamps) == 1:
            return httpx.Response(429, headers={"Retry-After": "0.4"})
        return httpx.Response(200)

    sender = _sender(Backend(limited))
    sender.send("training_completion", "POST", COMPLETION, encode_body({"n": 1}))
    sender.close()
    assert len(stamps) == 2
    assert stamps[1] - stamps[0] >= 0.4  # a floor, not a speed claim


def test_400_is_not_retried_and_names_endpoint_status_and_message(tmp_path: Path) -> None:
    backend = Backend(lambda r: httpx.Response(400, json={"detail": "total_epochs must be > 0"}))
    sender = _sender(backend, tmp_path)
    with pytest.raises(CallbackRejectedError) as info:
        sender.send("training_completion", "POST", COMPLETION, b"{}")
    message = str(info.value)
    assert "completion" in message and "400" in message and "total_epochs must be > 0" in message
    assert len(backend.requests) == 1
    sender.close()
    assert read_outbox(outbox_path(tmp_path, 5)).done == {"rejected": 1}


def test_background_rejection_does_not_stop_later_callbacks(tmp_path: Path) -> None:
    backend = Backend(lambda r: httpx.Response(422 if json.loads(r.content)["n"] == 1 else 200))
    sender = _sender(backend, tmp_path)
    for n in range(3):
        _post(sender, n)
    assert sender.flush(timeout=10)
    sender.close()
    assert [b["n"] for b in backend.bodies()] == [0, 1, 2]
    assert sender.stats.rejected == 1 and "422" in sender.stats.rejections[0]


def test_backend_down_fails_the_waiter_after_its_budget_and_keeps_the_outbox(
    tmp_path: Path,
) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused")

    backend = Backend(down)
    sender = _sender(backend, tmp_path)
    for n in range(5):
        _post(sender, n, coalescable=True)
    with pytest.raises(CallbackDeliveryError) as info:
        sender.send("training_completion", "POST", COMPLETION, b'{"n":99}')
    message = str(info.value)
    assert "Connection refused" in message and "outbox replay" in message
    assert "6 undelivered" in message
    sender.close(flush=False)
    pending = read_outbox(outbox_path(tmp_path, 5)).pending
    assert [json.loads(e.content)["n"] for e in pending] == [0, 1, 2, 3, 4, 99]


def test_a_waiter_gets_max_retries_plus_one_attempts() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503)

    backend = Backend(down)
    sender = _sender(backend, policy=RetryPolicy(max_retries=2, base_delay=0.001))
    with pytest.raises(CallbackDeliveryError, match="after 3 attempt"):
        sender.send("training_completion", "POST", COMPLETION, b"{}")
    sender.close(flush=False)


def test_backend_coming_back_mid_flush_delivers_everything_once(tmp_path: Path) -> None:
    up = threading.Event()

    def outage(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200) if up.is_set() else httpx.Response(503)

    backend = Backend(outage)
    sender = _sender(
        backend, tmp_path, policy=RetryPolicy(max_retries=50, base_delay=0.01, max_delay=0.02)
    )
    for n in range(10):
        _post(sender, n)
    threading.Timer(0.3, up.set).start()
    assert sender.flush(timeout=10)
    sender.close()
    delivered = [json.loads(r.content)["n"] for r in backend.requests if up.is_set()]
    ok_keys = [r.headers["Idempotency-Key"] for r in backend.requests]
    assert sorted(set(ok_keys), key=ok_keys.index) == list(dict.fromkeys(ok_keys))
    assert delivered[-10:] == list(range(10))
    assert sender.stats.delivered == 10


def test_full_queue_coalesces_progress_but_never_other_callbacks(tmp_path: Path) -> None:
    gate = threading.Event()
    first = threading.Event()

    def blocked(request: httpx.Request) -> httpx.Response:
        first.set()
        gate.wait(5)
        return httpx.Response(200)

    backend = Backend(blocked)
    sender = _sender(backend, tmp_path, capacity=4)
    _post(sender, 0, coalescable=True)  # becomes the in-flight head
    assert first.wait(5)
    for n in range(1, 30):
        _post(sender, n, coalescable=True)
        if n == 10:
            sender.post(
                "training_logs", "POST", "/training/jobs/5/callback/logs", encode_body({"n": "log"})
            )
            sender.post(
                "validation_results",
                "POST",
                "/validation/jobs/5/results",
                encode_body({"n": "val"}),
            )
    gate.set()
    assert sender.flush(timeout=10)
    sender.close()
    sent = [b["n"] for b in backend.bodies()]
    assert sent[0] == 0 and sent[-1] == 29  # the in-flight one and the newest survive
    assert "log" in sent and "val" in sent
    numbers = [n for n in sent if isinstance(n, int)]
    assert numbers == sorted(numbers) and len(numbers) < 30
    state = read_outbox(outbox_path(tmp_path, 5))
    assert state.pending == ()
    assert state.done["superseded"] == 30 - len(numbers) == sender.stats.superseded


def test_restart_redelivers_first_and_in_order_with_the_same_keys(tmp_path: Path) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503)

    first_run = _sender(Backend(down), tmp_path)
    for n in range(3):
        _post(first_run, n)
    first_run.close(flush=False)
    spooled = [e.key for e in read_outbox(outbox_path(tmp_path, 5)).pending]
    assert len(spooled) == 3

    backend = Backend()
    second_run = _sender(backend, tmp_path)
    assert second_run.stats.recovered == 3
    _post(second_run, 3)
    assert second_run.flush(timeout=10)
    second_run.close()
    assert [b["n"] for b in backend.bodies()] == [0, 1, 2, 3]
    assert backend.keys()[:3] == spooled


def test_post_after_close_is_refused() -> None:
    sender = _sender(Backend())
    sender.close()
    with pytest.raises(RuntimeError, match="closed"):
        _post(sender, 1)


def test_coalescing_for_a_non_progress_callback_keeps_the_newest_progress(tmp_path: Path) -> None:
    gate = threading.Event()
    first = threading.Event()

    def blocked(request: httpx.Request) -> httpx.Response:
        first.set()
        gate.wait(5)
        return httpx.Response(200)

    backend = Backend(blocked)
    sender = _sender(backend, tmp_path, capacity=3)
    _post(sender, 0, coalescable=True)
    assert first.wait(5)
    _post(sender, 1, coalescable=True)
    _post(sender, 2, coalescable=True)
    sender.post(
        "training_logs", "POST", "/training/jobs/5/callback/logs", encode_body({"n": "log"})
    )  # the queue is full here
    gate.set()
    assert sender.flush(timeout=10)
    sender.close()
    assert [b["n"] for b in backend.bodies()] == [0, 2, "log"]


def test_the_spool_is_compacted_during_a_long_run(tmp_path: Path) -> None:
    backend = Backend()
    transport = HttpTransport(
        "http://backend.test/api/v1",
        user_agent="t",
        timeout=1.0,
        transport=httpx.MockTransport(backend),
    )
    path = outbox_path(tmp_path, 5)
    sender = CallbackSender(transport, FAST, Outbox(path), compact_every=50)
    for n in range(300):
        _post(sender, n)
    assert sender.flush(timeout=10)
    lines_while_running = len(path.read_text().splitlines())
    _post(sender, 300)
    sender.close()
    assert lines_while_running < 150  # 600+ put/done lines without compaction
    assert [b["n"] for b in backend.bodies()] == list(range(301))
    state = read_outbox(path)
    assert state.pending == () and state.next_seq == 302


def test_a_broken_spool_never_breaks_sending(tmp_path: Path) -> None:
    backend = Backend()
    sender = _sender(backend, tmp_path)
    assert sender.outbox is not None
    sender.outbox.close()  # every later write fails
    _post(sender, 1)
    assert sender.flush(timeout=10)
    sender.close()
    assert [b["n"] for b in backend.bodies()] == [1]


@pytest.mark.parametrize("status", [500, 501])
def test_a_refused_background_callback_becomes_a_dead_letter_and_the_rest_goes_on(
    tmp_path: Path, status: int
) -> None:
    backend = Backend(
        lambda r: httpx.Response(status if b'"n":2' in r.content else 200, json={"detail": "x"})
    )
    sender = _sender(backend, tmp_path)
    for n in (1, 2, 3):
        _post(sender, n)
    sender.send("training_completion", "POST", COMPLETION, encode_body({"n": 4}))
    sender.close()
    delivered = [b["n"] for b in backend.bodies()]
    assert delivered.count(2) == FAST.max_retries + 1  # its retries, then set aside
    assert [n for n in delivered if n != 2] == [1, 3, 4]
    assert sender.stats.dead == 1
    state = read_outbox(outbox_path(tmp_path, 5))
    assert [json.loads(e.content)["n"] for e in state.dead] == [2] and state.pending == ()


@pytest.mark.parametrize("status", [502, 503, 504, 429])
def test_an_unavailable_backend_never_makes_dead_letters(tmp_path: Path, status: int) -> None:
    backend = Backend(lambda r: httpx.Response(status))
    sender = _sender(backend, tmp_path)
    _post(sender, 1)
    with pytest.raises(CallbackDeliveryError):
        sender.send("training_completion", "POST", COMPLETION, encode_body({"n": 2}))
    sender.close(flush=False)
    assert sender.stats.dead == 0
    assert [json.loads(e.content)["n"] for e in read_outbox(outbox_path(tmp_path, 5)).pending] == [
        1,
        2,
    ]


def test_a_terminal_callback_is_never_a_dead_letter(tmp_path: Path) -> None:
    sender = _sender(Backend(lambda r: httpx.Response(500)), tmp_path)
    with pytest.raises(CallbackDeliveryError):
        sender.send("training_completion", "POST", COMPLETION, encode_body({"n": 1}))
    sender.close(flush=False)
    assert sender.stats.dead == 0


def test_a_send_with_a_deadline_overtakes_a_stuck_head(tmp_path: Path) -> None:
    release = threading.Event()

    def behaviour(request: httpx.Request) -> httpx.Response:
        if b'"n":1' in request.content:
            release.wait(30)  # the head hangs
        return httpx.Response(200)

    backend = Backend(behaviour)
    sender = _sender(backend, tmp_path)
    _post(sender, 1)
    time.sleep(0.05)  # the worker is inside the hanging request
    sender.send(
        "training_completion",
        "POST",
        COMPLETION,
        encode_body({"n": 2}),
        deadline=time.monotonic() + 1.0,
    )
    assert [b["n"] for b in backend.bodies()] == [1, 2]  # 2 answered, 1 still hanging
    release.set()
    sender.close()
    assert read_outbox(outbox_path(tmp_path, 5)).pending == ()
