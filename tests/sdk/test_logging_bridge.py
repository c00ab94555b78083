"""Forwarding `logging` to the backend never raises and never recurses."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator

import httpx
import pytest
from sdk_recording_backend import RecordingBackend

from trainer_sdk import CallbackLogHandler, TrainerSDK

MakeSdk = Callable[..., TrainerSDK]


@pytest.fixture
def trainer_logger() -> Iterator[logging.Logger]:
    logger = logging.getLogger("test.trainer")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger
    logger.handlers.clear()


def test_records_are_forwarded_with_level_source_and_data(
    make_sdk: MakeSdk, backend: RecordingBackend, trainer_logger: logging.Logger
) -> None:
    sdk = make_sdk()
    trainer_logger.addHandler(sdk.logging_handler(logging.DEBUG, source="export"))
    trainer_logger.info("epoch %d done", 3)
    trainer_logger.critical("disk almost full")
    trainer_logger.debug("details")
    sdk.flush_logs()
    bodies = backend.bodies("/callback/logs")
    assert [(b["message"], b["level"]) for b in bodies] == [
        ("epoch 3 done", "INFO"),
        ("disk almost full", "ERROR"),  # CRITICAL has no contract level: ERROR
        ("details", "DEBUG"),
    ]
    assert all(b["source"] == "export" and b["event_type"] == "log" for b in bodies)
    assert bodies[0]["data"] == {"logger": "test.trainer"}


def test_terminal_styling_is_removed_and_blank_records_are_not_sent(
    make_sdk: MakeSdk, backend: RecordingBackend, trainer_logger: logging.Logger
) -> None:
    """Ultralytics' lines as it logs them: colour codes, leading newlines, blank records."""
    sdk = make_sdk()
    trainer_logger.addHandler(CallbackLogHandler(sdk))
    trainer_logger.info("\n\x1b[34m\x1b[1mtrain: \x1b[0mScanning labels... 36 images  ")
    trainer_logger.info("")
    trainer_logger.info("\n \n")
    trainer_logger.info("      Epoch    GPU_mem\n        1/2         0G\n")
    trainer_logger.info("\r  10% done\r 100% done")
    sdk.flush_logs()
    assert [b["message"] for b in backend.bodies("/callback/logs")] == [
        "train: Scanning labels... 36 images",
        "      Epoch    GPU_mem\n        1/2         0G",
        " 100% done",
    ]


@pytest.mark.parametrize(
    ("given", "wire"),
    [
        ("warn", "WARNING"),
        ("FATAL", "ERROR"),
        (5, "DEBUG"),
        (25, "INFO"),
        ("nonsense", "INFO"),
        (None, "INFO"),
    ],
)
def test_levels_map_onto_the_contract(
    make_sdk: MakeSdk, backend: RecordingBackend, given: object, wire: str
) -> None:
    sdk = make_sdk()
    sdk.log("x", level=given)  # type: ignore[arg-type]
    sdk.flush_logs()
    assert backend.bodies("/callback/logs")[0]["level"] == wire


def test_a_naive_handler_forwarding_every_record_does_not_recurse(
    make_sdk: MakeSdk, backend: RecordingBackend, env: dict[str, str]
) -> None:
    """A handler on the root logger that forwards everything, the SDK's own records included:
    the SDK logs while forwarding (rank skip, delivery retries), and nothing loops."""
    quiet = make_sdk(extra_env={"RANK": "1"})
    failing = RecordingBackend()
    failing.behaviour = lambda request: httpx.Response(503)
    loud = TrainerSDK(env={**env, "JOB_ID": "8", "RANK": "0"}, http_transport=failing.transport())
    forwarded: list[str] = []

    class Naive(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            forwarded.append(record.name)
            quiet.log(record.getMessage())  # logs "skipped on rank 1" at debug while forwarding
            loud.log(record.getMessage())  # its sender thread logs retries while forwarding

    root = logging.getLogger()
    naive = Naive(logging.DEBUG)
    previous = root.level
    root.addHandler(naive)
    root.setLevel(logging.DEBUG)
    try:
        logging.getLogger("trainer").info("hello")
        loud.flush_logs(timeout=0.5)
    finally:
        root.removeHandler(naive)
        root.setLevel(previous)
        loud.abandon()
    assert forwarded[0] == "trainer"
    assert backend.requests == []  # rank 1 never sends
    # Bounded: each record forwarded at most once more, never a chain.
    assert len(forwarded) < 50
    # The sender thread's own records (HTTP requests, retry warnings) were never sent back.
    sent = {json.loads(r.content)["message"] for r in failing.requests}
    assert "hello" in sent
    assert not any("HTTP Request" in m or "retrying" in m for m in sent)


def test_sdk_and_http_stack_records_are_not_forwarded(
    make_sdk: MakeSdk, backend: RecordingBackend
) -> None:
    sdk = make_sdk()
    handler = CallbackLogHandler(sdk, logging.DEBUG)
    for name in ("trainer_sdk.delivery", "httpx", "httpcore.connection", "botocore.auth"):
        handler.handle(logging.LogRecord(name, logging.INFO, __file__, 1, "noise", None, None))
    handler.handle(logging.LogRecord("mytrainer", logging.INFO, __file__, 1, "signal", None, None))
    sdk.flush_logs()
    assert [b["message"] for b in backend.bodies("/callback/logs")] == ["signal"]


def test_logging_never_raises(
    make_sdk: MakeSdk, backend: RecordingBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    def explode(request: httpx.Request) -> httpx.Response:
        raise RuntimeError("transport bug")

    backend.behaviour = explode
    sdk = make_sdk()
    handler = sdk.logging_handler()
    bad = logging.LogRecord("t", logging.INFO, __file__, 1, "%d apples", ("many",), None)
    handler.handle(bad)  # a broken format string
    sdk.log(object())  # type: ignore[arg-type]
    sdk.log("x", data=[1, 2])  # type: ignore[arg-type]
    sdk.log_event("", "empty event type")
    sdk.flush_logs(timeout=1.0)
    sdk.abandon()
    sdk.log("after abandon")


def test_secrets_are_scrubbed_from_forwarded_lines(
    make_sdk: MakeSdk, backend: RecordingBackend
) -> None:
    sdk = make_sdk(extra_env={"EXTERNAL_STORAGE_ACCESS_KEY": "AKIAEXAMPLEKEY"})
    sdk.log_warning("using key AKIAEXAMPLEKEY at http://u:pw@host/x?token=abc")
    sdk.flush_logs()
    message = backend.bodies("/callback/logs")[0]["message"]
    assert "AKIAEXAMPLEKEY" not in message and "pw@" not in message and "abc" not in message


def test_a_forked_worker_does_not_queue_log_lines(
    make_sdk: MakeSdk, backend: RecordingBackend
) -> None:
    import os

    sdk = make_sdk()
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # a data-loader worker: logging must be a silent no-op, reports refused
        try:
            sdk.log("from the worker")
            try:
                sdk.report_progress(1, 2, {"loss": 0.1})
                outcome = b"sent"
            except Exception as exc:
                outcome = b"refused" if b"fork" in str(exc).encode() else b"other"
            os.write(writer, outcome)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    os.close(writer)
    assert os.read(reader, 16) == b"refused"
    os.close(reader)
    sdk.flush_logs()
    assert backend.requests == []
    assert sdk.outbox_path is not None and sdk.outbox_path.read_text() == ""
