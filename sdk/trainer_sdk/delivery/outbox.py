"""The outbox: an append-only spool file that makes callbacks survive crashes and outages.

Every callback is appended (`put`) before its first attempt and marked (`done`) once it is
delivered, superseded by a newer progress update, rejected by the backend, or set aside as a
dead letter (a background callback the backend kept refusing with a server error). Whatever
has a `put` and no `done` is pending: a process started again with the same `JOB_ID` sends it
first, in order, with its original idempotency key, and `trainer-sdk outbox replay PATH` does
the same from the command line, dead letters included (a later mark wins: a dead letter that
a replay delivers is marked `delivered`).

A spool is data, never instructions: the request a record becomes is derived from its
`endpoint` name and the job id of the spool's file name (`job-<JOB_ID>[-rank<N>].jsonl`) through
the contract's endpoint table. A record whose stored `path` or `method` differs from what those
produce, whose endpoint is unknown, or whose body names another job is refused (never sent) and
reported; it is kept in the file for a human to look at.

Format (one JSON object per line, UTF-8)::

    {"v": 1, "op": "put", "seq": 3, "key": "...", "endpoint": "training_progress",
     "method": "POST", "path": "/training/jobs/7/callback/progress", "coalescable": true,
     "deferrable": true, "created_at": "2026-...Z", "body": {...}}
    {"v": 1, "op": "done", "seq": 3, "state": "delivered"}
    {"v": 1, "op": "base", "seq": 41}     (written by compaction: the highest seq so far)

Appends are single `os.write` calls on an `O_APPEND` descriptor: a line is never interleaved
with another, and a process killed mid-write leaves at most one torn last line, which the reader
skips. A write that fails or is short (the disk is full) is cut back with `ftruncate` to where
the record began, so a full disk never leaves a partial record that the next record would be
glued to; the writer then raises `OSError` and the caller knows the record is not on disk.
Compaction that cannot write its new file (ENOSPC) keeps the old one. There is no `fsync` per
callback: it would cost milliseconds on the training thread, and the page cache already
survives the process being killed (the pod's volume dies with the node anyway).
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trainer_contract.callbacks import ENDPOINTS
from trainer_sdk.delivery.envelope import Envelope, encode_body

__all__ = [
    "DONE_STATES",
    "Outbox",
    "OutboxBusyError",
    "OutboxState",
    "RefusedRecord",
    "outbox_path",
    "read_outbox",
    "spool_job_id",
]

try:  # Linux and macOS; without it (Windows) the spool is simply not locked.
    import fcntl
except ImportError:  # pragma: no cover - no such platform in CI
    fcntl = None  # type: ignore[assignment]


class OutboxBusyError(RuntimeError):
    """Another process has this spool open (a second trainer, or a replay in progress)."""


_FORMAT_VERSION = 1
_log = logging.getLogger("trainer_sdk.outbox")

DEAD = "dead"
DONE_STATES = frozenset({"delivered", "superseded", "rejected", DEAD})
_SPOOL_NAME = re.compile(r"job-(?P<job>[0-9]+)(?:-rank[0-9]+)?\.jsonl")


def outbox_path(work_dir: Path, job_id: int, rank: int | None = None) -> Path:
    """Where the outbox of a job lives under `WORK_DIR` (one file per rank that may send)."""
    suffix = f"-rank{rank}" if rank else ""
    return work_dir / ".trainer-sdk" / "outbox" / f"job-{job_id}{suffix}.jsonl"


def spool_job_id(path: Path) -> int | None:
    """The job id a spool file belongs to, from its name (`job-7.jsonl`, `job-7-rank1.jsonl`)."""
    found = _SPOOL_NAME.fullmatch(path.name)
    return int(found["job"]) if found else None


@dataclass(frozen=True, slots=True)
class RefusedRecord:
    """A spool record that is not sent: it does not agree with the contract and the spool's job."""

    seq: int
    reason: str
    raw: bytes


@dataclass(frozen=True, slots=True)
class OutboxState:
    """What a spool file holds: pending envelopes and dead letters in order, records refused as
    untrustworthy, and counts of the finished ones."""

    pending: tuple[Envelope, ...]
    done: dict[str, int]
    next_seq: int
    torn_lines: int
    dead: tuple[Envelope, ...] = ()
    refused: tuple[RefusedRecord, ...] = ()


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
            "deferrable": envelope.deferrable,
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


def _iter_records(path: Path) -> Iterator[tuple[dict[str, Any] | None, bytes]]:
    """Yield each line's record (None for a torn or foreign line) with the raw line."""
    with path.open("rb") as handle:
        for raw in handle:
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except (ValueError, RecursionError):
                yield None, raw
                continue
            yield (record if isinstance(record, dict) else None), raw


def _trusted(record: dict[str, Any], seq: int, job_id: int | None) -> Envelope | str:
    """The envelope a `put` record stands for, or why it is refused.

    Endpoint, method and path come from the contract's endpoint table and the spool's job id;
    the record's own `path` and `method` are only compared with them, never used.
    """
    name = str(record["endpoint"])
    endpoint = ENDPOINTS.get(name)
    if endpoint is None:
        return f"unknown endpoint {name[:80]!r}"
    if job_id is None:
        return "the spool's file name does not name its job (job-<JOB_ID>.jsonl)"
    path = endpoint.path.format(job_id=job_id)
    if record["path"] != path or record["method"] != endpoint.method:
        stored = f"{str(record['method'])[:10]} {str(record['path'])[:120]!r}"
        return f"its request {stored} is not {endpoint.method} {path!r} ({name} of job {job_id})"
    body = record["body"]
    if not isinstance(body, dict):
        return "its body is not a JSON object"
    if "job_id" in body and body["job_id"] != job_id:
        return f"its body is for job {str(body['job_id'])[:40]}, not job {job_id}"
    return Envelope(
        seq=seq,
        key=str(record["key"]),
        endpoint=name,
        method=endpoint.method,
        path=path,
        content=encode_body(body),
        coalescable=bool(record.get("coalescable", False)),
        created_at=str(record.get("created_at", "")),
        deferrable=record.get("deferrable") is True,
    )


def read_outbox(path: Path, job_id: int | None = None) -> OutboxState:
    """Read a spool file: pending envelopes and dead letters (in `seq` order), refused records,
    and what is done. `job_id` defaults to the one in the file's name."""
    if job_id is None:
        job_id = spool_job_id(path)
    puts: dict[int, Envelope] = {}
    refused: dict[int, RefusedRecord] = {}
    done: dict[int, str] = {}
    torn = 0
    max_seq = 0
    if path.exists():
        for record, raw in _iter_records(path):
            if record is None or record.get("v") != _FORMAT_VERSION:
                torn += 1
                continue
            try:
                seq = int(record["seq"])
                if record["op"] == "put":
                    trusted = _trusted(record, seq, job_id)
                    if isinstance(trusted, str):
                        refused[seq] = RefusedRecord(seq, trusted, raw)
                    else:
                        puts[seq] = trusted
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
    dead = tuple(puts[seq] for seq in sorted(puts) if done.get(seq) == DEAD)
    return OutboxState(
        pending=pending,
        done=counts,
        next_seq=max_seq + 1,
        torn_lines=torn,
        dead=dead,
        refused=tuple(refused[seq] for seq in sorted(refused) if seq not in done),
    )


class Outbox:
    """An open spool file for one job: append envelopes, mark them done, compact on open.

    `job_id` is the job the spool belongs to (by default the one in the file's name); records
    that do not agree with it are refused, see the module docstring.
    """

    def __init__(self, path: Path, job_id: int | None = None) -> None:
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
            state = read_outbox(path, job_id)
            if state.torn_lines:
                _log.warning(
                    "outbox %s: skipped %d unreadable line(s) (a process was killed mid-write)",
                    path.name,
                    state.torn_lines,
                )
            for refused in state.refused:
                _log.warning(
                    "outbox %s: record #%d not sent: %s; a spool is data, and this record does "
                    "not agree with the contract and the spool's job (it stays in the file)",
                    path.name,
                    refused.seq,
                    refused.reason,
                )
            self._refused = state.refused
            self._pending_at_open = state.pending
            self._dead_at_open = state.dead
            self._next_seq = state.next_seq
            self._highest_written = state.next_seq - 1
            try:
                self._compact(state.pending, state.dead, state.next_seq - 1)
            except OSError as exc:
                _log.warning(
                    "outbox %s: cannot compact it (%s); the file is kept as it is",
                    path.name,
                    exc.strerror or exc,
                )
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
    def dead_letters(self) -> tuple[Envelope, ...]:
        """Dead letters of earlier processes, in order (sent again only by a replay)."""
        return self._dead_at_open

    @property
    def refused(self) -> tuple[RefusedRecord, ...]:
        """Records of the file that are not sent (they disagree with the contract or the job)."""
        return self._refused

    @property
    def next_seq(self) -> int:
        """The first sequence number this process may use (numbering continues across runs)."""
        return self._next_seq

    def put(self, envelope: Envelope) -> None:
        """Append an envelope before its first attempt; `OSError` means it is not on disk."""
        self._write(_envelope_line(envelope))
        self._highest_written = max(self._highest_written, envelope.seq)

    def mark(self, seq: int, state: str) -> None:
        """Record that envelope `seq` is finished: delivered, superseded, rejected or dead."""
        if state not in DONE_STATES:
            raise ValueError(
                f"unknown outbox state {state!r}; expected one of {sorted(DONE_STATES)}"
            )
        self._write(_done_line(seq, state))

    def compact(self, pending: tuple[Envelope, ...], dead: tuple[Envelope, ...] = ()) -> None:
        """Rewrite the open spool with only `pending` (what the sender still holds, in order)
        and the dead letters `dead`. Raises `OSError` (the old file is then kept)."""
        with self._lock:
            if self._fd < 0:
                return
            last_seq = max([e.seq for e in (*pending, *dead)], default=0)
            os.close(self._fd)
            self._fd = -1
            try:
                # No fsync here: this runs on a caller's thread, and a rename survives the
                # process being killed, which is what the spool is for.
                self._compact(pending, dead, max(last_seq, self._highest_written), durable=False)
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
        """Append one whole record, or nothing: a failed or short write is cut back."""
        with self._lock:
            if self._fd < 0:
                raise ValueError(f"outbox {self._path.name} is closed")
            start = os.fstat(self._fd).st_size
            try:
                written = os.write(self._fd, line)
            except OSError:
                self._cut(start)
                raise
            if written != len(line):
                self._cut(start)
                raise OSError(
                    errno.ENOSPC,
                    f"{os.strerror(errno.ENOSPC)} (wrote {written} of {len(line)} bytes)",
                )

    def _cut(self, size: int) -> None:
        # Shrinking a file needs no free space; should it fail anyway, the reader skips the
        # partial line (it is not valid JSON) and the writer has said the record is not on disk.
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, size)

    def _compact(
        self,
        pending: tuple[Envelope, ...],
        dead: tuple[Envelope, ...],
        last_seq: int,
        *,
        durable: bool = True,
    ) -> None:
        """Rewrite the file with only the pending envelopes, the dead letters and the refused
        records (atomically: temp file + rename; on any error the old file stays).

        A `base` line keeps the highest sequence number, so numbering never restarts and log
        readers can tell a second process's callbacks from the first's.
        """
        if not self._path.exists():
            return
        tmp = self._path.with_name(self._path.name + ".tmp")
        try:
            with tmp.open("wb") as handle:
                base = {"v": _FORMAT_VERSION, "op": "base", "seq": last_seq}
                handle.write((json.dumps(base, separators=(",", ":")) + "\n").encode())
                for envelope in sorted((*pending, *dead), key=lambda e: e.seq):
                    handle.write(_envelope_line(envelope))
                for envelope in dead:
                    handle.write(_done_line(envelope.seq, DEAD))
                for refused in self._refused:
                    handle.write(
                        refused.raw if refused.raw.endswith(b"\n") else refused.raw + b"\n"
                    )
                handle.flush()
                if durable:
                    os.fsync(handle.fileno())
            os.replace(tmp, self._path)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
