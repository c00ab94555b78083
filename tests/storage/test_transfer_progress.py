"""Progress: a bar on a terminal, periodic log lines elsewhere."""

from __future__ import annotations

import io
import logging
import threading

import pytest

from trainer_sdk.storage.progress import TransferProgress, format_bytes


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_bar_on_a_terminal_shows_files_bytes_and_rate() -> None:
    stream = _Terminal()
    with TransferProgress("dataset ds_1", total_files=4, total_bytes=4096, stream=stream) as bar:
        assert bar.interactive
        for _ in range(4):
            bar.file_done(1024)
    output = stream.getvalue()
    last = output.rstrip("\n").split("\r")[-1]
    assert "[########################] 100.0%" in last
    assert "dataset ds_1: 4/4 files, 4.0 KiB/4.0 KiB" in last
    assert "files/s" in last
    assert output.endswith("\n")


def test_log_lines_when_not_a_terminal(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="trainer_sdk.storage")
    stream = io.StringIO()
    progress = TransferProgress("upload best", total_files=2, stream=stream, log_interval=0.0)
    assert not progress.interactive
    progress.file_done(10)
    progress.file_done(20)
    progress.close()
    progress.close()  # idempotent
    assert stream.getvalue() == ""
    lines = [r.getMessage() for r in caplog.records if r.name == "trainer_sdk.storage"]
    assert lines[0].startswith("upload best: 1/2 files, 10 B")
    assert lines[-1].startswith("upload best: 2/2 files, 30 B")
    assert "done in" in lines[-1]
    assert len(lines) == 3


def test_counts_are_exact_under_threads() -> None:
    progress = TransferProgress("x", stream=io.StringIO(), log_interval=3600)

    def work() -> None:
        for _ in range(1000):
            progress.file_done(3)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (progress.files, progress.bytes) == (8000, 24000)


def test_format_bytes() -> None:
    assert format_bytes(999) == "999 B"
    assert format_bytes(1536) == "1.5 KiB"
    assert format_bytes(5 * 1024**3) == "5.0 GiB"
