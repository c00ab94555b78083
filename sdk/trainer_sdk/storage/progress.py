"""Transfer feedback: a live bar on a terminal, periodic log lines otherwise.

Training pods write stderr to a log collector, where a carriage-return bar would become thousands
of lines; so the bar is drawn only when stderr is a terminal, and elsewhere one INFO line is logged
every `log_interval` seconds plus a final one.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from typing import TextIO

__all__ = ["TransferProgress", "format_bytes"]

logger = logging.getLogger("trainer_sdk.storage")

_BAR_WIDTH = 24
_REDRAW_INTERVAL = 0.1


def format_bytes(count: float) -> str:
    """`1536` -> `1.5 KiB`: a byte count for people."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(count) < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} TiB"  # unreachable; keeps type checkers content


class TransferProgress:
    """Counts files and bytes of one transfer and reports them; safe to call from many threads.

    `total_files` / `total_bytes` may be None when unknown (the bar then shows counts only).
    Use as a context manager, or call `close()` to print the final state.
    """

    def __init__(
        self,
        label: str,
        *,
        total_files: int | None = None,
        total_bytes: int | None = None,
        stream: TextIO | None = None,
        log_interval: float = 10.0,
        interactive: bool | None = None,
    ) -> None:
        self.label = label
        self.total_files = total_files
        self.total_bytes = total_bytes
        self.files = 0
        self.bytes = 0
        self._stream = stream if stream is not None else sys.stderr
        if interactive is None:
            isatty = getattr(self._stream, "isatty", None)
            interactive = bool(isatty and isatty())
        self.interactive = interactive
        self._log_interval = log_interval
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self._last_report = self._started
        self._closed = False

    def add_bytes(self, count: int) -> None:
        """Record `count` more bytes transferred (for partial progress of large files)."""
        with self._lock:
            self.bytes += count
            self._maybe_report()

    def file_done(self, size: int = 0) -> None:
        """Record one finished file of `size` bytes not yet counted with `add_bytes`."""
        with self._lock:
            self.files += 1
            self.bytes += size
            self._maybe_report()

    def line(self) -> str:
        """The current state as one line, e.g. `dataset ds_1: 120/500 files, 2.3 MiB, 410 files/s`."""
        elapsed = max(time.monotonic() - self._started, 1e-9)
        files = (
            f"{self.files}/{self.total_files}" if self.total_files is not None else f"{self.files}"
        )
        size = format_bytes(self.bytes)
        if self.total_bytes:
            size += f"/{format_bytes(self.total_bytes)}"
        rate = f"{self.files / elapsed:.0f} files/s, {format_bytes(self.bytes / elapsed)}/s"
        return f"{self.label}: {files} files, {size}, {rate}"

    def close(self) -> None:
        """Print or log the final state once."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self.interactive:
                self._draw()
                self._stream.write("\n")
                self._stream.flush()
            else:
                logger.info("%s (done in %.1f s)", self.line(), time.monotonic() - self._started)

    def __enter__(self) -> TransferProgress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _maybe_report(self) -> None:
        now = time.monotonic()
        interval = _REDRAW_INTERVAL if self.interactive else self._log_interval
        if now - self._last_report < interval:
            return
        self._last_report = now
        if self.interactive:
            self._draw()
        else:
            logger.info("%s", self.line())

    def _draw(self) -> None:
        done: float | None = None
        if self.total_bytes:
            done = self.bytes / self.total_bytes
        elif self.total_files:
            done = self.files / self.total_files
        bar = ""
        if done is not None:
            filled = int(_BAR_WIDTH * min(done, 1.0))
            bar = f"[{'#' * filled}{'.' * (_BAR_WIDTH - filled)}] {done * 100:5.1f}% "
        self._stream.write(f"\r{bar}{self.line()}\x1b[K")
        self._stream.flush()
