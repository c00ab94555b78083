"""The outbox: an append-only spool file that makes callbacks survive crashes and outages.

Every callback is appended (`put`) before its first attempt and marked (`done`) once it is
delivered, superseded by a newer progress update, or rejected by the backend. Whatever has a
`put` and no `done` is pending: a process started again with the same `JOB_ID` sends it first,
in order, with its original idempotency key, and `trainer-sdk outbox replay PATH` does the same
from the command line.

Format (one JSON object per line, UTF-8)::

    {"v": 1, "op": "put", "seq": 3, "key": "...", "endpoint": "progress", "method": "POST",
     "path": "/training/jobs/7/callback/progress", "coalescable": true,
     "created_at": "2026-...Z", "body": {...}}
    {"v": 1, "op": "done", "seq": 3, "state": "delivered"}
    {"v": 1, "op": "base", "seq": 41}     (written by compaction: the highest seq so far)

Appends are single `os.write` calls on an `O_APPEND` descriptor: a line is never interleaved
with another, and a process killed mid-write leaves at most one torn last line, which the reader
skips. There is no `fsync` per callback: it would cost milliseconds on the training thread, and
the page cache already survives the process being killed (the pod's volume dies with the node
anyway).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trainer_sdk.delivery.envelope import Envelope

__all__ = [
    "DONE_STATES",
    "Outbox",
    "OutboxBusyError",
    "OutboxState",
    "outbox_path",
    "read_outbox",
]

try:  # Linux and macOS; without it (Windows) the spool is simply not locked.
    import fcntl
except ImportError:  # pragma: no cover - no such platform in CI
    fcntl = None  # type: ignore[assignment]


class OutboxBusyError(RuntimeError):
    """Another process has this spool open (a second trainer, or a replay in progress)."""


_FORMAT_VERSION = 1
_log = logging.getLogger("trainer_sdk.outbox")

DONE_STATES = frozenset({"delivered", "superseded", "rejected"})


def outbox_path(work_dir: Path, job_id: int, rank: int | None = None) -> Path:
    """Where the outbox of a job lives under `WORK_DIR` (one file per rank that may send)."""
    suffix = f"-rank{rank}" if rank else ""
    return work_dir / ".trainer-sdk" / "outbox" / f"job-{job_id}{suffix}.jsonl"


@dataclass(frozen=True, slots=True)
class OutboxState:
    """What a spool file holds: pending envelopes in order, and counts of the finished ones."""

    pending: tuple[Envelope, ...]
    done: dict[str, int]
    next_seq: int
    torn_lines: int


def _envelope_line(envelope: Envelope) -> bytes:
    head = json.dumps(
        {
            "v": _FORMAT_VERSION,
            "op": "put",
            "seq": envelope.seq,
            "key": envelope.key,
            "endpoint": envelope.endpoint,
            "method": envelope.method,
            "path": envelope.path,
            "coalescable": envelope.coalescable,
            "created_at": envelope.created_at,
        },
        separators=(",", ":"),
        ensure_ascii=False,
    )
    # The body is already serialised once for sending; splice it in instead of encoding it again.
    return head[:-1].encode() + b',"body":' + envelope.content + b"}\n"


def _done_line(seq: int, state: str) -> bytes:
    return (
        json.dumps(
            {"v": _FORMAT_VERSION, "op": "done", "seq": seq, "state": state}, separators=(",", ":")
        )
        + "\n"
    ).encode()


def _iter_records(path: Path) -> Iterator[dict[str, Any] | None]:
    """Yield each line's record, or None for a torn or foreign line."""
    with path.open("rb") as handle:
        for raw in handle:
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except ValueError:
                yield None
                continue
            yield record if isinstance(record, dict) else None


def read_outbox(path: Path) -> OutboxState:
    """Read a spool file: which envelopes are still pending (in `seq` order) and what is done."""
    puts: dict[int, Envelope] = {}
    done: dict[int, str] = {}
    torn = 0
    max_seq = 0
    if path.exists():
        for record in _iter_records(path):
            if record is None or record.get("v") != _FORMAT_VERSION:
                torn += 1
                continue
            try:
                seq = int(record["seq"])
                if record["op"] == "put":
                    puts[seq] = Envelope(
                        seq=seq,
                        key=str(record["key"]),
                        endpoint=str(record["endpoint"]),
                        method=str(record["method"]),
                        path=str(record["path"]),
                        content=json.dumps(
                            record["body"], separators=(",", ":"), ensure_ascii=False
                        ).encode(),
                        coalescable=bool(record.get("coalescable", False)),
                        created_at=str(record.get("created_at", "")),
                    )
                elif record["op"] == "done":
                    done[seq] = str(record["state"])
                elif record["op"] == "base":
                    pass  # only carries the highest sequence number of a compacted file
                else:
                    torn += 1
                    continue
            except (KeyError, TypeError, ValueError):
                torn += 1
                continue
            max_seq = max(max_seq, seq)
    counts: dict[str, int] = {}
    for state in done.values():
        counts[state] = counts.get(state, 0) + 1
    pending = tuple(puts[seq] for seq in sorted(puts) if seq not in done)
    return OutboxState(pending=pending, done=counts, next_seq=max_seq + 1, torn_lines=torn)


class Outbox:
    """An open spool file for one job: append envelopes, mark them done, compact on open."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        # An exclusive lock on a side file (the spool itself is replaced by compaction) keeps a
        # second process from compacting or replaying a spool a live trainer is appending to.
        self._lock_fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        if fcntl is not None:
            try:
                fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(self._lock_fd)
                raise OutboxBusyError(
                    f"the callback outbox {path} is in use by another process (another trainer "
                    "with the same JOB_ID and RANK, or `trainer-sdk outbox replay`); wait for it "
                    "to finish"
                ) from None
        try:
            state = read_outbox(path)
            if state.torn_lines:
                _log.warning(
                    "outbox %s: skipped %d unreadable line(s) (a process was killed mid-write)",
                    path.name,
                    state.torn_lines,
                )
            self._compact(state.pending, state.next_seq - 1)
            self._pending_at_open = state.pending
            self._next_seq = state.next_seq
            self._highest_written = state.next_seq - 1
            self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        except BaseException:
            os.close(self._lock_fd)
            raise

    @property
    def path(self) -> Path:
        """The spool file."""
        return self._path

    @property
    def recovered(self) -> tuple[Envelope, ...]:
        """Envelopes a previous process left undelivered, in order; they go out first."""
        return self._pending_at_open

    @property
    def next_seq(self) -> int:
        """The first sequence number this process may use (numbering continues across runs)."""
        return self._next_seq

    def put(self, envelope: Envelope) -> None:
        """Append an envelope before its first attempt."""
        self._write(_envelope_line(envelope))
        self._highest_written = max(self._highest_written, envelope.seq)

    def mark(self, seq: int, state: str) -> None:
        """Record that envelope `seq` is finished: delivered, superseded or rejected."""
        if state not in DONE_STATES:
            raise ValueError(
                f"unknown outbox state {state!r}; expected one of {sorted(DONE_STATES)}"
            )
        self._write(_done_line(seq, state))

    def compact(self, pending: tuple[Envelope, ...]) -> None:
        """Rewrite the open spool with only `pending` (what the sender still holds, in order)."""
        with self._lock:
            if self._fd < 0:
                return
            last_seq = max([e.seq for e in pending], default=0)
            os.close(self._fd)
            self._fd = -1
            try:
                # No fsync here: this runs on a caller's thread, and a rename survives the
                # process being killed, which is what the spool is for.
                self._compact(pending, max(last_seq, self._highest_written), durable=False)
            finally:
                self._fd = os.open(self._path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def close(self) -> None:
        """Close the file; pending lines stay for the next process or `outbox replay`."""
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1
            if self._lock_fd >= 0:
                os.close(self._lock_fd)  # releases the process lock
                self._lock_fd = -1

    def _write(self, line: bytes) -> None:
        with self._lock:
            if self._fd < 0:
                raise ValueError(f"outbox {self._path.name} is closed")
            os.write(self._fd, line)

    def _compact(
        self, pending: tuple[Envelope, ...], last_seq: int, *, durable: bool = True
    ) -> None:
        """Rewrite the file with only the pending envelopes (atomically: temp file + rename).

        A `base` line keeps the highest sequence number, so numbering never restarts and log
        readers can tell a second process's callbacks from the first's.
        """
        if not self._path.exists():
            return
        tmp = self._path.with_name(self._path.name + ".tmp")
        with tmp.open("wb") as handle:
            base = {"v": _FORMAT_VERSION, "op": "base", "seq": last_seq}
            handle.write((json.dumps(base, separators=(",", ":")) + "\n").encode())
            for envelope in pending:
                handle.write(_envelope_line(envelope))
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.replace(tmp, self._path)
