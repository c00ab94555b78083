"""Forward Python `logging` records to the backend through `TrainerSDK.log`.

The platform's trainers attach a handler like this one to their loggers. Two rules make it safe:
it never raises into the trainer (`TrainerSDK.log` swallows its own failures), and it never
recurses: records of the SDK itself and of the HTTP stack it uses describe the forwarding and
would loop forever, so they are skipped here, and `TrainerSDK.log` ignores calls made while it is
already forwarding on the same thread or from the sender's thread.

Frameworks write for terminals: Ultralytics colours its lines with ANSI escape codes and pads its
output with blank lines. The platform shows plain text, so escape codes are removed, surrounding
blank lines trimmed, and a record with nothing left is not sent.
"""

from __future__ import annotations

import logging
import re
from typing import Protocol

__all__ = [
    "FORWARDING_EXCLUDED_LOGGERS",
    "QUIETED_LOGGERS",
    "CallbackLogHandler",
    "plain_text",
    "quiet_http_loggers",
]

# CSI sequences (colours, cursor moves: ESC [ ... letter) and the other two-byte ESC sequences.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")


def plain_text(message: str) -> str:
    """`message` without terminal escape codes, carriage-return progress or blank edge lines."""
    text = _ANSI.sub("", message)
    if "\r" in text:  # a progress bar redrawn in place: keep what the terminal would show last
        text = "\n".join(line.rsplit("\r", 1)[-1] for line in text.split("\n"))
    lines = [line.rstrip() for line in text.split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


# The HTTP stack the SDK sends through: httpx logs one INFO line per request ("HTTP Request:
# POST ... 200 OK"), i.e. one per callback, into the trainer's own log when it configures
# logging at INFO (Ultralytics and most frameworks do).
QUIETED_LOGGERS: tuple[str, ...] = ("httpx", "httpcore")


def quiet_http_loggers() -> None:
    """Set the HTTP stack's loggers to WARNING unless the trainer set a level on them itself
    (a logger whose level is NOTSET was not configured: it only inherits the root's)."""
    for name in QUIETED_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.WARNING)


# Loggers whose records are about the delivery itself (the SDK, httpx/httpcore, boto's stack).
FORWARDING_EXCLUDED_LOGGERS: tuple[str, ...] = (
    "trainer_sdk",
    "httpx",
    "httpcore",
    "urllib3",
    "botocore",
    "boto3",
    "s3transfer",
)


class _LogSink(Protocol):
    def log(
        self,
        message: str,
        level: str = ...,
        source: str = ...,
        data: dict[str, object] | None = ...,
    ) -> None: ...


class CallbackLogHandler(logging.Handler):
    """A `logging.Handler` that sends every record to the backend as a log callback.

    Usage::

        handler = CallbackLogHandler(sdk, source="trainer")
        logging.getLogger().addHandler(handler)
    """

    def __init__(
        self,
        sdk: _LogSink,
        level: int = logging.INFO,
        *,
        source: str = "trainer",
        excluded: tuple[str, ...] = FORWARDING_EXCLUDED_LOGGERS,
    ) -> None:
        super().__init__(level)
        self._sdk = sdk
        self._source = source
        self._excluded = excluded

    def _is_excluded(self, name: str) -> bool:
        return any(name == prefix or name.startswith(prefix + ".") for prefix in self._excluded)

    def emit(self, record: logging.LogRecord) -> None:
        """Forward one record; never raises."""
        if self._is_excluded(record.name):
            return
        try:
            message = self.format(record)
        except Exception:  # a broken format string must not cost the trainer its run
            message = str(record.msg)
        message = plain_text(message)
        if not message:
            return
        data: dict[str, object] = {"logger": record.name}
        if record.exc_info and record.exc_info[0] is not None:
            data["exception"] = record.exc_info[0].__name__
        try:
            self._sdk.log(message, level=record.levelname, source=self._source, data=data)
        except Exception:  # TrainerSDK.log does not raise; a stand-in sink still must not
            return
