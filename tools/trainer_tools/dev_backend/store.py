"""The reference backend's record: every callback, its answer and each job's lifecycle, in SQLite.

SQLite in WAL mode is the embedded default: one file that survives restarts, readers never block
the writer, and several backend processes may share it. Each request is decided and recorded in
one `BEGIN IMMEDIATE` transaction, so that the idempotency check, the lifecycle transition and the
insert can never interleave with another request's.

Idempotency: a request with an `Idempotency-Key` that was seen before gets the stored answer of the
first one and is not recorded again (its `replays` counter goes up). The same key with a different
request (method, path or body) is refused: a client bug that must not pass silently.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from trainer_tools.dev_backend.lifecycle import JobState

__all__ = [
    "Decision",
    "IdempotencyKeyReused",
    "JobSummary",
    "Store",
    "StoredAnswer",
    "TimelineEntry",
]

_SCHEMA_VERSION = 1
_DDL = """
CREATE TABLE IF NOT EXISTS callbacks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id TEXT NOT NULL,  -- text: the contract puts no upper bound on a job id
    scope TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    schema TEXT,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    idempotency_key TEXT,
    fingerprint TEXT NOT NULL,
    received_at TEXT NOT NULL,
    received_ns INTEGER NOT NULL,
    body TEXT,
    status_code INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    response TEXT NOT NULL,
    replays INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS callbacks_idempotency_key
    ON callbacks (idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS callbacks_job ON callbacks (job_id, seq);
CREATE TABLE IF NOT EXISTS jobs (
    scope TEXT NOT NULL,
    job_id TEXT NOT NULL,
    state TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (scope, job_id)
);
"""


@dataclass(frozen=True)
class Decision:
    """What the app decided for one request: the answer and, if it changes, the new job state."""

    status_code: int
    content_type: str
    response: dict[str, Any]
    new_state: JobState | None = None
    schema: str | None = None  # the body schema the request matched (or came closest to)


@dataclass(frozen=True)
class StoredAnswer:
    """An answer as sent (or re-sent, when `replayed`)."""

    seq: int
    status_code: int
    content_type: str
    response: dict[str, Any]
    replayed: bool


@dataclass(frozen=True)
class TimelineEntry:
    """One recorded callback of a job."""

    seq: int
    job_id: int
    endpoint: str
    schema: str | None
    method: str
    path: str
    idempotency_key: str | None
    received_at: str
    received_ns: int
    body: Any
    status_code: int
    response: dict[str, Any]
    replays: int

    @property
    def accepted(self) -> bool:
        """True when the backend answered 2xx."""
        return 200 <= self.status_code < 300

    def to_json(self) -> dict[str, Any]:
        """The entry as served by `GET /jobs/{job_id}/timeline`."""
        return {
            "seq": self.seq,
            "job_id": self.job_id,
            "endpoint": self.endpoint,
            "schema": self.schema,
            "method": self.method,
            "path": self.path,
            "idempotency_key": self.idempotency_key,
            "received_at": self.received_at,
            "received_ns": self.received_ns,
            "status_code": self.status_code,
            "accepted": self.accepted,
            "body": self.body,
            "response": self.response,
            "replays": self.replays,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TimelineEntry:
        """Rebuild an entry from `to_json` output (the dry-run reads the timeline over HTTP)."""
        return cls(
            seq=int(data["seq"]),
            job_id=int(data["job_id"]),
            endpoint=str(data["endpoint"]),
            schema=data.get("schema"),
            method=str(data["method"]),
            path=str(data["path"]),
            idempotency_key=data.get("idempotency_key"),
            received_at=str(data["received_at"]),
            received_ns=int(data["received_ns"]),
            body=data.get("body"),
            status_code=int(data["status_code"]),
            response=dict(data.get("response") or {}),
            replays=int(data.get("replays", 0)),
        )


@dataclass(frozen=True)
class JobSummary:
    """One job of the record: how many callbacks, when, and where its lifecycle is."""

    job_id: int
    callbacks: int
    first_at: str
    last_at: str
    phase: str  # the lifecycle phase (of the scope that moved furthest), "pending" without one


class IdempotencyKeyReused(Exception):
    """The same `Idempotency-Key` came with a different request."""

    def __init__(self, key: str, first_seq: int) -> None:
        super().__init__(key)
        self.key = key
        self.first_seq = first_seq


class Store:
    """The SQLite record of one reference backend (thread-safe; one connection, one lock)."""

    def __init__(self, path: str | Path) -> None:
        """Open (or create) the database at `path`; `:memory:` gives a private in-memory one."""
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, so that each request is one
        # IMMEDIATE transaction; the lock serialises this process's threads on the connection.
        self._db = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None, timeout=30.0
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=30000")
        with self._lock:
            self._db.executescript(_DDL)
            self._db.execute(f"PRAGMA user_version={_SCHEMA_VERSION}")

    def __repr__(self) -> str:
        return f"Store({self.path!r})"

    @property
    def journal_mode(self) -> str:
        """SQLite's journal mode for this database ('wal' for a file, 'memory' for :memory:)."""
        with self._lock:
            row = self._db.execute("PRAGMA journal_mode").fetchone()
        return str(row[0])

    def close(self) -> None:
        """Close the connection (the file stays, and a new Store reopens it)."""
        with self._lock:
            self._db.close()

    def record(
        self,
        *,
        job_id: int,
        scope: str,
        endpoint: str,
        method: str,
        path: str,
        idempotency_key: str | None,
        fingerprint: str,
        body: Any,
        decide: Callable[[JobState, int], Decision],
    ) -> StoredAnswer:
        """Decide and record one request atomically, or replay the answer to its first sending.

        `decide(state, seq)` sees the job's current state and the sequence number the request
        will get; it returns the answer and the new state. Raises `IdempotencyKeyReused` when the
        key was used for a different request.
        """
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                answer = self._record(
                    job_id,
                    scope,
                    endpoint,
                    method,
                    path,
                    idempotency_key,
                    fingerprint,
                    body,
                    decide,
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            return answer

    def _record(
        self,
        job_id: int,
        scope: str,
        endpoint: str,
        method: str,
        path: str,
        idempotency_key: str | None,
        fingerprint: str,
        body: Any,
        decide: Callable[[JobState, int], Decision],
    ) -> StoredAnswer:
        db = self._db
        if idempotency_key is not None:
            row = db.execute(
                "SELECT seq, fingerprint, status_code, content_type, response FROM callbacks "
                "WHERE idempotency_key = ?",
                (idempotency_key,),
            ).fetchone()
            if row is not None:
                if row[1] != fingerprint:
                    raise IdempotencyKeyReused(idempotency_key, int(row[0]))
                db.execute("UPDATE callbacks SET replays = replays + 1 WHERE seq = ?", (row[0],))
                return StoredAnswer(int(row[0]), int(row[2]), str(row[3]), json.loads(row[4]), True)
        state_row = db.execute(
            "SELECT state FROM jobs WHERE scope = ? AND job_id = ?", (scope, str(job_id))
        ).fetchone()
        state = JobState.from_json(json.loads(state_row[0])) if state_row else JobState()
        seq_row = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM callbacks").fetchone()
        seq = int(seq_row[0])
        decision = decide(state, seq)
        now_ns = time.time_ns()
        received_at = datetime.fromtimestamp(now_ns / 1e9, UTC).isoformat(timespec="milliseconds")
        db.execute(
            "INSERT INTO callbacks (seq, job_id, scope, endpoint, schema, method, path, "
            "idempotency_key, fingerprint, received_at, received_ns, body, status_code, "
            "content_type, response) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                seq,
                str(job_id),
                scope,
                endpoint,
                decision.schema,
                method,
                path,
                idempotency_key,
                fingerprint,
                received_at.replace("+00:00", "Z"),
                now_ns,
                None if body is None else json.dumps(body, allow_nan=False),
                decision.status_code,
                decision.content_type,
                json.dumps(decision.response),
            ),
        )
        if decision.new_state is not None and decision.new_state != state:
            db.execute(
                "INSERT INTO jobs (scope, job_id, state, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (scope, job_id) DO UPDATE SET state = excluded.state, "
                "updated_at = excluded.updated_at",
                (scope, str(job_id), json.dumps(decision.new_state.to_json()), received_at),
            )
        return StoredAnswer(
            seq, decision.status_code, decision.content_type, decision.response, False
        )

    def timeline(self, job_id: int) -> list[TimelineEntry]:
        """Every recorded callback of `job_id`, in the order received."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, job_id, endpoint, schema, method, path, idempotency_key, "
                "received_at, received_ns, body, status_code, response, replays FROM callbacks "
                "WHERE job_id = ? ORDER BY seq",
                (str(job_id),),
            ).fetchall()
        return [
            TimelineEntry(
                seq=int(r[0]),
                job_id=int(r[1]),
                endpoint=str(r[2]),
                schema=r[3],
                method=str(r[4]),
                path=str(r[5]),
                idempotency_key=r[6],
                received_at=str(r[7]),
                received_ns=int(r[8]),
                body=None if r[9] is None else json.loads(r[9]),
                status_code=int(r[10]),
                response=json.loads(r[11]),
                replays=int(r[12]),
            )
            for r in rows
        ]

    def job_states(self, job_id: int) -> dict[str, JobState]:
        """The lifecycle state of `job_id` in each scope that has seen it."""
        with self._lock:
            rows = self._db.execute(
                "SELECT scope, state FROM jobs WHERE job_id = ? ORDER BY scope", (str(job_id),)
            ).fetchall()
        return {str(r[0]): JobState.from_json(json.loads(r[1])) for r in rows}

    def jobs(self) -> list[JobSummary]:
        """Every job with a recorded callback, the least recently active first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT job_id, COUNT(*), MIN(received_at), MAX(received_at) FROM callbacks "
                "GROUP BY job_id ORDER BY MAX(seq)"
            ).fetchall()
            states = self._db.execute("SELECT job_id, state FROM jobs").fetchall()
        phases: dict[str, str] = {}
        for job, state in states:
            phase = JobState.from_json(json.loads(state)).phase
            # Several scopes (training, export) of one id: show the one that moved furthest.
            if str(job) not in phases or phase.terminal or phases[str(job)] == "pending":
                phases[str(job)] = phase.value
        return [
            JobSummary(int(r[0]), int(r[1]), str(r[2]), str(r[3]), phases.get(str(r[0]), "pending"))
            for r in rows
        ]

    def count(self) -> int:
        """How many callbacks are recorded (replays not counted)."""
        with self._lock:
            row = self._db.execute("SELECT COUNT(*) FROM callbacks").fetchone()
        return int(row[0])
