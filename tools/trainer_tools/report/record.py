"""What a report is drawn from: one job's callbacks with their answers, its verdict, its dataset.

Every source (a dry-run, a `file://` recording, an outbox, the reference backend's store or URL)
becomes a `RunRecord`; the rest of the report never looks at where it came from.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trainer_tools.dev_backend.lifecycle import EventKind
from trainer_tools.dev_backend.roles import body_roles
from trainer_tools.dev_backend.store import TimelineEntry

__all__ = ["Answer", "CheckLine", "RunEvent", "RunRecord", "events_from_timeline"]


class Answer(enum.StrEnum):
    """How a callback was answered (the colour of its mark on the timeline)."""

    ACCEPTED = "accepted"
    RETRIED = "retried"  # accepted, but only after the client sent it again
    REFUSED = "refused"  # 4xx: invalid body or out of lifecycle order
    PENDING = "pending"  # still in an outbox: never delivered
    SUPERSEDED = "superseded"  # a progress update replaced by a newer one in the outbox


@dataclass(frozen=True)
class RunEvent:
    """One callback of the job."""

    seq: int
    seconds: float  # since the job's first callback
    at: str  # ISO 8601 time
    endpoint: str
    kind: str  # started, progress, completed, failed (lifecycle) or the body's schema name
    answer: Answer
    status: int | None
    body: Any
    detail: str = ""  # why it was refused

    @property
    def lifecycle(self) -> bool:
        """True for started, progress, completed and failed callbacks."""
        return self.kind in {k.value for k in EventKind if k is not EventKind.OTHER}


@dataclass(frozen=True)
class CheckLine:
    """One check of the verdict: passed, failed or not judged (`ok` None), with its evidence."""

    name: str
    ok: bool | None
    summary: str
    details: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunRecord:
    """Everything a report shows about one job."""

    title: str
    source: str
    job_id: int | None
    events: tuple[RunEvent, ...]
    state: str  # pending, running, completed, failed
    checks: tuple[CheckLine, ...] = ()
    notes: tuple[str, ...] = ()
    dataset_dir: Path | None = None
    exit_code: int | None = None
    live: bool = False  # the job is still running: the page refreshes itself
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def verdict_ok(self) -> bool | None:
        """True when every judged check passed; None when nothing was judged."""
        judged = [c.ok for c in self.checks if c.ok is not None]
        return all(judged) if judged else None


def _kind(entry: TimelineEntry) -> str:
    if entry.schema:
        kind = body_roles().kind(entry.schema)
        if kind is not EventKind.OTHER:
            return kind.value
        return entry.schema.rsplit("/", 1)[-1]
    return entry.endpoint


def _refusal(entry: TimelineEntry) -> str:
    errors = entry.response.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        return f"{first.get('path')}: {first.get('message')}{more}"
    return str(entry.response.get("detail") or entry.response.get("title") or "")


def events_from_timeline(
    entries: Sequence[TimelineEntry], times_ns: Sequence[int] | None = None
) -> tuple[RunEvent, ...]:
    """The backend's timeline as report events; `times_ns` replaces the receipt times."""
    if not entries:
        return ()
    stamps = list(times_ns) if times_ns is not None else [e.received_ns for e in entries]
    start = min(stamps)
    events = []
    for entry, stamp in zip(entries, stamps, strict=True):
        if not entry.accepted:
            answer = Answer.REFUSED
        elif entry.replays:
            answer = Answer.RETRIED
        else:
            answer = Answer.ACCEPTED
        events.append(
            RunEvent(
                seq=entry.seq,
                seconds=(stamp - start) / 1e9,
                at=entry.received_at,
                endpoint=entry.endpoint,
                kind=_kind(entry),
                answer=answer,
                status=entry.status_code,
                body=entry.body,
                detail="" if entry.accepted else _refusal(entry),
            )
        )
    return tuple(events)
