"""The spool file: pending envelopes survive a restart, in order, with their keys."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from trainer_sdk.delivery.envelope import Envelope, encode_body
from trainer_sdk.delivery.outbox import Outbox, outbox_path, read_outbox


def _envelope(seq: int, *, coalescable: bool = False) -> Envelope:
    return Envelope(
        seq=seq,
        key=f"k{seq}",
        endpoint="training_progress",
        method="POST",
        path="/training/jobs/3/callback/progress",
        content=encode_body({"epoch": seq, "name": "é"}),
        coalescable=coalescable,
        created_at="2026-01-01T00:00:00.000Z",
    )


def test_path_is_per_job_and_rank(tmp_path: Path) -> None:
    assert outbox_path(tmp_path, 42) == tmp_path / ".trainer-sdk" / "outbox" / "job-42.jsonl"
    assert outbox_path(tmp_path, 42, rank=0).name == "job-42.jsonl"
    assert outbox_path(tmp_path, 42, rank=3).name == "job-42-rank3.jsonl"


def test_pending_envelopes_survive_and_come_back_in_order(tmp_path: Path) -> None:
    path = outbox_path(tmp_path, 3)
    box = Outbox(path)
    assert box.recovered == () and box.next_seq == 1
    for seq in (1, 2, 3, 4, 5):
        box.put(_envelope(seq, coalescable=seq == 2))
    box.mark(1, "delivered")
    box.mark(3, "superseded")
    box.mark(5, "rejected")
    box.close()

    state = read_outbox(path)
    assert [e.seq for e in state.pending] == [2, 4]
    assert state.done == {"delivered": 1, "superseded": 1, "rejected": 1}
    assert state.pending[0] == _envelope(2, coalescable=True)  # key, body bytes, flags intact

    again = Outbox(path)
    assert [e.key for e in again.recovered] == ["k2", "k4"]
    assert again.next_seq == 6
    again.close()
    # Compaction on open keeps only what is pending, plus the numbering watermark.
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["op"] for r in records] == ["base", "put", "put"]


def test_numbering_continues_after_everything_was_delivered(tmp_path: Path) -> None:
    path = outbox_path(tmp_path, 3)
    box = Outbox(path)
    box.put(_envelope(1))
    box.mark(1, "delivered")
    box.close()
    for _ in range(2):  # compaction twice keeps the watermark
        reopened = Outbox(path)
        assert reopened.next_seq == 2
        reopened.close()


def test_a_torn_last_line_is_skipped_not_fatal(tmp_path: Path) -> None:
    path = outbox_path(tmp_path, 3)
    box = Outbox(path)
    box.put(_envelope(1))
    box.close()
    with path.open("ab") as handle:
        handle.write(b'{"v":1,"op":"put","seq":2,"key":"k2","endpo')  # killed mid-write
    state = read_outbox(path)
    assert [e.seq for e in state.pending] == [1] and state.torn_lines == 1


def test_unknown_state_is_refused(tmp_path: Path) -> None:
    box = Outbox(outbox_path(tmp_path, 1))
    with pytest.raises(ValueError, match="unknown outbox state"):
        box.mark(1, "lost")
    box.close()


def test_a_spool_is_locked_against_a_second_process(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = outbox_path(tmp_path, 3)
    box = Outbox(path)
    probe = (
        "import sys; from pathlib import Path\n"
        "from trainer_sdk.delivery.outbox import Outbox, OutboxBusyError\n"
        "try:\n    Outbox(Path(sys.argv[1]))\nexcept OutboxBusyError as e:\n"
        "    print('busy', e)\nelse:\n    print('opened')\n"
    )
    held = subprocess.run([sys.executable, "-c", probe, str(path)], capture_output=True, text=True)
    assert held.stdout.startswith("busy") and "in use by another process" in held.stdout
    box.close()
    free = subprocess.run([sys.executable, "-c", probe, str(path)], capture_output=True, text=True)
    assert free.stdout.strip() == "opened"


def test_a_short_or_failed_write_leaves_no_partial_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = outbox_path(tmp_path, 3)
    box = Outbox(path)
    box.put(_envelope(1))
    real_write = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: real_write(fd, data[:10]))  # disk fills
    with pytest.raises(OSError) as caught:
        box.put(_envelope(2))
    assert caught.value.errno == errno.ENOSPC

    def full(fd: int, data: bytes) -> int:
        real_write(fd, data[:7])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(OSError):
        box.mark(1, "delivered")
    monkeypatch.setattr(os, "write", real_write)  # space again
    box.put(_envelope(3))
    box.close()
    assert all(line.endswith(b"\n") for line in path.read_bytes().splitlines(keepends=True))
    state = read_outbox(path)
    assert [e.seq for e in state.pending] == [1, 3] and state.torn_lines == 0


def test_records_that_disagree_with_the_endpoint_table_or_the_job_are_refused(
    tmp_path: Path,
) -> None:
    path = outbox_path(tmp_path, 3)
    good = _envelope(1)
    Outbox(path).close()
    lines = [
        {"path": good.path},
        {"path": "@evil.test/x"},
        {"path": "/training/jobs/4/callback/progress"},
        {"endpoint": "evil"},
        {"method": "DELETE"},
        {"body": {"job_id": 4}},
        {"body": [1]},
    ]
    with path.open("a") as handle:
        for seq, change in enumerate(lines, 1):
            record = {
                "v": 1,
                "op": "put",
                "seq": seq,
                "key": f"k{seq}",
                "endpoint": good.endpoint,
                "method": "POST",
                "path": good.path,
                "body": {"job_id": 3},
            }
            handle.write(json.dumps({**record, **change}) + "\n")
    state = read_outbox(path)
    assert [e.seq for e in state.pending] == [1]
    assert [r.seq for r in state.refused] == [2, 3, 4, 5, 6, 7]
    # A spool whose name does not say its job is not trusted at all.
    path.rename(path.with_name("renamed.jsonl"))
    renamed = read_outbox(path.with_name("renamed.jsonl"))
    assert renamed.pending == () and len(renamed.refused) == 7
