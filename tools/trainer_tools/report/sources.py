"""Read a run from wherever it was recorded, as a `RunRecord`.

- a dry-run's result (`record_from_dry_run`), with its full verdict;
- the reference backend's SQLite store (`record_from_store`) or its URL (`record_from_url`);
- a `CALLBACK_URL=file:///...jsonl` recording (`record_from_callback_file`) or an SDK outbox
  spool (`record_from_outbox`). These carry no backend answer, so their callbacks are judged by
  replaying them, in order, into an in-memory reference backend: the same validation and lifecycle
  rules decide which would have been accepted.

`load_record(spec)` tells the kinds apart by their content, not by their names.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from trainer_contract.callbacks import IDEMPOTENCY_HEADER
from trainer_tools.dev_backend import TIMELINE_PATH, Store, TimelineEntry, create_app
from trainer_tools.dev_backend.lifecycle import EventKind
from trainer_tools.dry_run.verdict import Verdict, judge
from trainer_tools.report.record import Answer, CheckLine, RunEvent, RunRecord, events_from_timeline

if TYPE_CHECKING:
    from trainer_tools.dry_run.runner import DryRunResult

__all__ = [
    "ReportSourceError",
    "job_state",
    "load_record",
    "record_from_callback_file",
    "record_from_dry_run",
    "record_from_outbox",
    "record_from_store",
    "record_from_timeline",
    "record_from_url",
]

# Checks that need only the callbacks; the others need the process's exit code and the S3 objects.
_TIMELINE_CHECKS = ("payloads_valid", "lifecycle_in_order")
_SQLITE_MAGIC = b"SQLite format 3\x00"
_JOB_IN_PATH = re.compile(r"/jobs/(\d+)(?:/|$)")


class ReportSourceError(ValueError):
    """The run to report on cannot be read: what was given, and what was expected."""


def job_state(events: Sequence[RunEvent]) -> str:
    """pending (no lifecycle callback yet), running, completed or failed, from the callbacks."""
    accepted = [e for e in events if e.lifecycle and e.answer is not Answer.REFUSED]
    for event in reversed(accepted):
        if event.kind in (EventKind.COMPLETED.value, EventKind.FAILED.value):
            return event.kind
    return "running" if accepted else "pending"


def _checks(verdict: Verdict, names: Iterable[str] | None = None) -> tuple[CheckLine, ...]:
    wanted = set(names) if names is not None else None
    return tuple(
        CheckLine(c.name, c.ok, c.summary, tuple(c.details))
        for c in verdict.checks
        if wanted is None or c.name in wanted
    )


def _timeline_verdict(job_id: int, entries: Sequence[TimelineEntry]) -> tuple[CheckLine, ...]:
    verdict = judge(job_id, entries, None, {}, "")
    judged = _checks(verdict, _TIMELINE_CHECKS)
    not_judged = tuple(
        CheckLine(
            c.name,
            None,
            "not judged: this record has no process exit code and no S3 to look objects up in "
            "(a dry-run report judges it)",
        )
        for c in verdict.checks
        if c.name not in _TIMELINE_CHECKS
    )
    return judged + not_judged


def record_from_timeline(
    entries: Sequence[TimelineEntry],
    *,
    job_id: int,
    title: str,
    source: str,
    dataset_dir: Path | None = None,
    times_ns: Sequence[int] | None = None,
    answers: Sequence[Answer] | None = None,
) -> RunRecord:
    """A record of `entries` judged on the timeline alone (payloads and lifecycle)."""
    events = events_from_timeline(entries, times_ns)
    if answers is not None:
        events = tuple(_with_answer(e, a) for e, a in zip(events, answers, strict=True))
    state = job_state(events)
    return RunRecord(
        title=title,
        source=source,
        job_id=job_id,
        events=events,
        state=state,
        checks=_timeline_verdict(job_id, entries),
        dataset_dir=dataset_dir,
        live=state in ("pending", "running"),
    )


def _with_answer(event: RunEvent, answer: Answer) -> RunEvent:
    if answer is Answer.ACCEPTED or event.answer is Answer.REFUSED:
        return event
    return RunEvent(
        event.seq,
        event.seconds,
        event.at,
        event.endpoint,
        event.kind,
        answer,
        event.status,
        event.body,
        event.detail,
    )


def record_from_dry_run(result: DryRunResult, *, title: str, dataset_dir: Path | None) -> RunRecord:
    """A dry-run's record, with its whole verdict (exit code and S3 lookups included)."""
    events = events_from_timeline(result.timeline)
    return RunRecord(
        title=title,
        source="dry-run",
        job_id=result.verdict.job_id,
        events=events,
        state=job_state(events),
        checks=_checks(result.verdict),
        notes=tuple(result.verdict.notes),
        dataset_dir=dataset_dir,
        exit_code=result.verdict.exit_code,
    )


def record_from_store(
    path: Path, job_id: int | None = None, *, dataset_dir: Path | None = None
) -> RunRecord:
    """The record of `job_id` (default: the most recent job) in a reference backend's store."""
    if not path.is_file():
        raise ReportSourceError(f"{path}: no such file; give the backend's SQLite file (--db)")
    store = Store(path)
    try:
        if job_id is None:
            jobs = store.jobs()
            if not jobs:
                raise ReportSourceError(f"{path}: the store has no callback recorded")
            job_id = jobs[-1].job_id
        entries = store.timeline(job_id)
    finally:
        store.close()
    if not entries:
        raise ReportSourceError(f"{path}: no callback of job {job_id} is recorded")
    return record_from_timeline(
        entries,
        job_id=job_id,
        title=f"job {job_id}",
        source=f"reference backend store {path.name}",
        dataset_dir=dataset_dir,
    )


def record_from_url(
    url: str,
    job_id: int | None = None,
    *,
    token: str | None = None,
    dataset_dir: Path | None = None,
    timeout: float = 10.0,
) -> RunRecord:
    """The record of a job read from a running reference backend (`http://host:port`)."""
    import httpx

    base = url.rstrip("/")
    found = _JOB_IN_PATH.search(urlsplit(base).path)
    if found:
        job_id = int(found.group(1)) if job_id is None else job_id
        base = base[: base.rindex("/jobs/")]
    if job_id is None:
        raise ReportSourceError(f"{url}: give the job (--job N, or the URL of /jobs/N)")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    where = base + TIMELINE_PATH.format(job_id=job_id)
    try:
        response = httpx.get(where, headers=headers, timeout=timeout, trust_env=False)
    except httpx.HTTPError as exc:
        raise ReportSourceError(f"cannot read {where}: {exc}") from exc
    if response.status_code != 200:
        raise ReportSourceError(
            f"{where} answered {response.status_code}"
            + (" (give the backend's token with --token)" if response.status_code == 401 else "")
        )
    data = response.json()
    entries = [TimelineEntry.from_json(item) for item in data.get("callbacks", [])]
    if not entries:
        raise ReportSourceError(f"{where}: no callback of job {job_id} is recorded")
    return record_from_timeline(
        entries,
        job_id=job_id,
        title=f"job {job_id}",
        source=f"reference backend {base}",
        dataset_dir=dataset_dir,
    )


@dataclass(frozen=True)
class _Recorded:
    """A callback as a recording or an outbox holds it: not yet answered by any backend."""

    method: str
    path: str
    key: str | None
    body: Any
    at: str
    answer: Answer = Answer.ACCEPTED


def _replay(recorded: Sequence[_Recorded]) -> tuple[list[TimelineEntry], int]:
    """Answer `recorded` with an in-memory reference backend; (timeline, job id)."""
    from starlette.testclient import TestClient

    job_ids = [int(m.group(1)) for r in recorded if (m := _JOB_IN_PATH.search(r.path))]
    if not job_ids:
        raise ReportSourceError("no callback of a job in the record")
    job_id = job_ids[0]
    store = Store(":memory:")
    try:
        with TestClient(create_app(store)) as client:
            for item in recorded:
                headers = {"Content-Type": "application/json"}
                if item.key:
                    headers[IDEMPOTENCY_HEADER] = item.key
                client.request(
                    item.method,
                    item.path,
                    content=json.dumps(item.body).encode(),
                    headers=headers,
                )
        return store.timeline(job_id), job_id
    finally:
        store.close()


def _ns(at: str, fallback: int) -> int:
    try:
        return int(datetime.fromisoformat(at.replace("Z", "+00:00")).timestamp() * 1e9)
    except ValueError:
        return fallback


def _record_of(
    recorded: list[_Recorded], *, title: str, source: str, dataset_dir: Path | None
) -> RunRecord:
    entries, job_id = _replay(recorded)
    of_job = [
        r for r in recorded if (m := _JOB_IN_PATH.search(r.path)) and int(m.group(1)) == job_id
    ]
    # A replayed duplicate (same idempotency key) is stored once: keep the first of each key.
    seen: set[str] = set()
    unique = []
    for item in of_job:
        if item.key is not None and item.key in seen:
            continue
        if item.key is not None:
            seen.add(item.key)
        unique.append(item)
    if len(unique) != len(entries):
        unique = unique[: len(entries)]
    times = [_ns(item.at, entry.received_ns) for item, entry in zip(unique, entries, strict=False)]
    answers = [item.answer for item in unique]
    return record_from_timeline(
        entries,
        job_id=job_id,
        title=title,
        source=source,
        dataset_dir=dataset_dir,
        times_ns=times,
        answers=answers,
    )


def _json_lines(path: Path) -> list[dict[str, Any]]:
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise ReportSourceError(f"{path}:{number}: not a JSON line ({exc})") from None
        if not isinstance(record, dict):
            raise ReportSourceError(f"{path}:{number}: expected a JSON object per line")
        records.append(record)
    return records


def record_from_callback_file(path: Path, *, dataset_dir: Path | None = None) -> RunRecord:
    """A `CALLBACK_URL=file:///...jsonl` recording, judged by an in-memory reference backend."""
    recorded = []
    for number, record in enumerate(_json_lines(path), 1):
        try:
            headers = record.get("headers") or {}
            recorded.append(
                _Recorded(
                    method=str(record["method"]),
                    path=str(record["path"]),
                    key=headers.get(IDEMPOTENCY_HEADER),
                    body=record.get("body"),
                    at=str(record.get("timestamp", "")),
                )
            )
        except (KeyError, AttributeError):
            raise ReportSourceError(
                f"{path}:{number}: not a callback recording line (method, path, body expected)"
            ) from None
    if not recorded:
        raise ReportSourceError(f"{path}: the recording is empty")
    return _record_of(
        recorded, title=path.name, source=f"callback recording {path.name}", dataset_dir=dataset_dir
    )


_OUTBOX_ANSWERS = {
    "delivered": Answer.ACCEPTED,
    "rejected": Answer.REFUSED,
    "superseded": Answer.SUPERSEDED,
}


def record_from_outbox(path: Path, *, dataset_dir: Path | None = None) -> RunRecord:
    """An SDK outbox spool: delivered, rejected, superseded and still pending callbacks."""
    puts: dict[int, dict[str, Any]] = {}
    done: dict[int, str] = {}
    for record in _json_lines(path):
        op, seq = record.get("op"), record.get("seq")
        if not isinstance(seq, int):
            continue
        if op == "put":
            puts[seq] = record
        elif op == "done":
            done[seq] = str(record.get("state"))
    if not puts:
        raise ReportSourceError(
            f"{path}: no callback in the outbox (it is compacted once everything is delivered)"
        )
    recorded = [
        _Recorded(
            method=str(puts[seq].get("method", "POST")),
            path=str(puts[seq]["path"]),
            key=puts[seq].get("key"),
            body=puts[seq].get("body"),
            at=str(puts[seq].get("created_at", "")),
            answer=_OUTBOX_ANSWERS.get(done.get(seq, ""), Answer.PENDING),
        )
        for seq in sorted(puts)
    ]
    return _record_of(
        recorded, title=path.name, source=f"outbox {path.name}", dataset_dir=dataset_dir
    )


def load_record(
    spec: str,
    *,
    job_id: int | None = None,
    token: str | None = None,
    dataset_dir: Path | None = None,
) -> RunRecord:
    """Read a run from `spec`: a URL of the reference backend, a SQLite store, a `file://`
    recording (or its path) or an outbox spool."""
    if spec.startswith(("http://", "https://")):
        return record_from_url(spec, job_id, token=token, dataset_dir=dataset_dir)
    path = Path(unquote(urlsplit(spec).path)) if spec.startswith("file://") else Path(spec)
    if not path.is_file():
        raise ReportSourceError(
            f"{spec}: no such file; give a callback recording (.jsonl), an outbox spool, the "
            "reference backend's SQLite file, or its URL"
        )
    with path.open("rb") as handle:
        head = handle.read(len(_SQLITE_MAGIC))
    if head == _SQLITE_MAGIC:
        return record_from_store(path, job_id, dataset_dir=dataset_dir)
    lines = _json_lines(path)
    if not lines:
        raise ReportSourceError(f"{path}: the file is empty")
    if "op" in lines[0] and "v" in lines[0]:
        return record_from_outbox(path, dataset_dir=dataset_dir)
    return record_from_callback_file(path, dataset_dir=dataset_dir)
