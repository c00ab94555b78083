"""Judge a dry-run: did the trainer keep the contract, end to end?

Four checks, each with a stable name (the JSON output uses it) and details that name the callback
(its timeline number), the JSON path and the fix:

- `payloads_valid`: the backend accepted every payload against its schema (no 422).
- `lifecycle_in_order`: started first, epochs never going backwards, exactly one final callback
  (completion or failure), nothing refused as out of order (no 409).
- `checkpoints_exist`: every `s3://` URI a callback reported exists, and the checkpoints of the
  final report are in the internal (checkpoint) bucket.
- `exit_code_agrees`: the process exit code is the one the final callback announced.

The module is pure: it gets the timeline, the exit code and the S3 lookups from the runner.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from trainer_contract.exit_codes import ExitCode
from trainer_contract.lint_rules import LIFECYCLE_METHODS
from trainer_contract.models.callbacks.failed import JobFailed
from trainer_contract.models.callbacks.training_completed import TrainingCompleted
from trainer_tools.dev_backend.lifecycle import EventKind
from trainer_tools.dev_backend.roles import body_roles, event_for
from trainer_tools.dev_backend.store import TimelineEntry

__all__ = [
    "CHECK_NAMES",
    "Check",
    "ReportedUri",
    "Verdict",
    "judge",
    "reported_uris",
]

CHECK_NAMES = ("payloads_valid", "lifecycle_in_order", "checkpoints_exist", "exit_code_agrees")
_MAX_DETAILS = 12
_EXIT_FIELD = "exit_code"  # checked against the generated models below
_CHECKPOINT_WORD = "checkpoint"
assert _EXIT_FIELD in TrainingCompleted.__annotations__ and _EXIT_FIELD in JobFailed.__annotations__


@dataclass(frozen=True)
class Check:
    """One verdict line: passed or not, a summary, and the details behind it."""

    name: str
    ok: bool
    summary: str
    details: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The check as a JSON object."""
        return {"name": self.name, "ok": self.ok, "summary": self.summary, "details": self.details}


@dataclass(frozen=True)
class Verdict:
    """All checks of a dry-run; `ok` only when every one passed."""

    job_id: int
    exit_code: int | None
    checks: tuple[Check, ...]
    notes: tuple[str, ...] = field(default=())
    outcome: str | None = None  # how the job ended by its final callback: completed, failed

    @property
    def ok(self) -> bool:
        """True when every check passed."""
        return all(c.ok for c in self.checks)

    def check(self, name: str) -> Check:
        """The check called `name`."""
        return next(c for c in self.checks if c.name == name)

    def to_json(self) -> dict[str, Any]:
        """The verdict as a JSON object (what `dry-run --json` prints)."""
        return {
            "ok": self.ok,
            "job_id": self.job_id,
            "exit_code": self.exit_code,
            "outcome": self.outcome,
            "checks": [c.to_json() for c in self.checks],
            "notes": list(self.notes),
        }

    def format(self) -> str:
        """The verdict as text lines."""
        width = max(len(c.name) for c in self.checks)
        lines = [f"verdict: {'PASS' if self.ok else 'FAIL'}"]
        for check in self.checks:
            mark = "PASS" if check.ok else "FAIL"
            lines.append(f"  {mark}  {check.name.ljust(width)}  {check.summary}")
            shown = check.details[:_MAX_DETAILS]
            lines.extend(f"          - {d}" for d in shown)
            if len(check.details) > len(shown):
                lines.append(f"          ... and {len(check.details) - len(shown)} more")
        lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines)


@dataclass(frozen=True)
class ReportedUri:
    """A string a callback reported that names (or should name) a stored object."""

    seq: int
    endpoint: str
    path: str  # JSON path in the body
    value: str
    is_checkpoint: bool  # under a checkpoint field of the final report

    @property
    def bucket_and_key(self) -> tuple[str, str] | None:
        """(bucket, key) of an `s3://` URI, else None."""
        if not self.value.startswith("s3://"):
            return None
        bucket, _, key = self.value[len("s3://") :].partition("/")
        return (bucket, key) if bucket and key else None

    def where(self) -> str:
        """`#seq endpoint $.path` for messages."""
        return f"#{self.seq} {self.endpoint} {self.path}"


def _walk(value: Any, path: str, in_checkpoint: bool) -> Iterator[tuple[str, str, bool]]:
    if isinstance(value, dict):
        for key, item in value.items():
            name = str(key)
            yield from _walk(item, f"{path}.{name}", in_checkpoint or _CHECKPOINT_WORD in name)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}[{index}]", in_checkpoint)
    elif isinstance(value, str):
        yield path, value, in_checkpoint


def _kind(entry: TimelineEntry) -> EventKind:
    return body_roles().kind(entry.schema) if entry.schema and entry.accepted else EventKind.OTHER


def reported_uris(entries: Sequence[TimelineEntry]) -> list[ReportedUri]:
    """Every `s3://` URI in accepted bodies, plus every checkpoint value of a final success report.

    A checkpoint value is a string under a field whose name contains "checkpoint" (the report's
    best/last paths and its `checkpoints` mapping): the platform keeps only what is in the
    checkpoint bucket, so a local path there is a lost checkpoint.
    """
    found = []
    for entry in entries:
        if not entry.accepted:
            continue
        final = _kind(entry) is EventKind.COMPLETED
        for path, value, in_checkpoint in _walk(entry.body, "$", False):
            if value.startswith("s3://") or (final and in_checkpoint and value):
                found.append(
                    ReportedUri(entry.seq, entry.endpoint, path, value, final and in_checkpoint)
                )
    return found


def _payloads(entries: Sequence[TimelineEntry]) -> Check:
    details = []
    rejected = [e for e in entries if e.status_code >= 400 and e.status_code != 409]
    for entry in rejected:
        errors = entry.response.get("errors")
        listed = errors if isinstance(errors, list) and errors else []
        if not listed:
            details.append(
                f"#{entry.seq} {entry.endpoint}: {entry.status_code} {entry.response.get('detail', '')}"
            )
        for error in listed:
            if isinstance(error, dict):
                details.append(
                    f"#{entry.seq} {entry.endpoint} {error.get('path')}: {error.get('message')}"
                    + (f" [{error.get('keyword')}]" if error.get("keyword") else "")
                )
    if not entries:
        return Check("payloads_valid", True, "no callback to check")
    if rejected:
        return Check(
            "payloads_valid",
            False,
            f"{len(rejected)} of {len(entries)} callbacks rejected as invalid; fix the fields "
            "below (the SDK validates before sending: a hand-built payload bypassed it)",
            tuple(details),
        )
    return Check("payloads_valid", True, f"{len(entries)} callbacks, every payload valid")


def _lifecycle(entries: Sequence[TimelineEntry]) -> Check:
    started, completed, failed = (
        LIFECYCLE_METHODS.started,
        LIFECYCLE_METHODS.completed,
        LIFECYCLE_METHODS.failed,
    )
    if not entries:
        return Check(
            "lifecycle_in_order",
            False,
            f"the backend received no callback: call {started}() before training, then "
            f"{completed}() or {failed}()",
        )
    details = [
        f"#{e.seq} {e.endpoint}: refused (409): {e.response.get('detail', '')}"
        for e in entries
        if e.status_code == 409
    ]
    lifecycle = [e for e in entries if _kind(e) is not EventKind.OTHER]
    terminal = [e for e in lifecycle if _kind(e) in (EventKind.COMPLETED, EventKind.FAILED)]
    if lifecycle:
        first = lifecycle[0]
        event = event_for(first.schema or "", first.body)
        opened = event.kind is EventKind.STARTED or (
            event.kind is EventKind.PROGRESS and event.epoch == 0
        )
        if not opened:
            details.insert(
                0,
                f"#{first.seq} {first.endpoint}: the first lifecycle callback is not the start "
                f"report; call {started}() before the first epoch",
            )
    if not terminal:
        details.append(
            f"no final callback: neither {completed}() nor {failed}() reached the backend; "
            f"call {completed}() when training succeeds and {failed}() in the exception handler"
        )
    if details:
        return Check("lifecycle_in_order", False, "the lifecycle is broken", tuple(details))
    epochs = [
        epoch for e in lifecycle if (epoch := event_for(e.schema or "", e.body).epoch) is not None
    ]
    span = f", epochs {epochs[0]}..{epochs[-1]}" if epochs else ""
    return Check(
        "lifecycle_in_order",
        True,
        f"started{span}, then {_kind(terminal[0]).value} (#{terminal[0].seq}), in order",
    )


def _checkpoints(
    uris: Sequence[ReportedUri], exists: Mapping[str, bool], checkpoint_bucket: str
) -> Check:
    details = []
    for uri in uris:
        location = uri.bucket_and_key
        if location is None:
            details.append(
                f"{uri.where()}: {uri.value!r} is not an s3:// URI; the pod's disk is gone when "
                "the job ends: upload with sdk.upload_checkpoint() and report the URI it returns"
            )
            continue
        if uri.is_checkpoint and location[0] != checkpoint_bucket:
            details.append(
                f"{uri.where()}: {uri.value} is not in the checkpoint bucket "
                f"{checkpoint_bucket!r}; use sdk.upload_checkpoint()"
            )
        elif not exists.get(uri.value, False):
            details.append(
                f"{uri.where()}: {uri.value} does not exist; it was reported but never uploaded "
                "(upload it before reporting it)"
            )
    checkpoints = {u.value for u in uris if u.is_checkpoint}
    others = {u.value for u in uris} - checkpoints
    if details:
        return Check(
            "checkpoints_exist", False, f"{len(details)} reported object(s) missing", tuple(details)
        )
    if not uris:
        return Check("checkpoints_exist", True, "no checkpoint reported")
    return Check(
        "checkpoints_exist",
        True,
        f"{len(checkpoints)} checkpoint(s) and {len(others)} other object(s) reported, all "
        f"present: {', '.join(sorted(checkpoints | others))}",
    )


def _exit_code(entries: Sequence[TimelineEntry], exit_code: int | None, timed_out: bool) -> Check:
    known = ", ".join(f"{c.value} ({c.name})" for c in ExitCode)
    if exit_code is None or timed_out:
        return Check(
            "exit_code_agrees",
            False,
            "the trainer did not exit by itself (stopped after the timeout)",
        )
    terminal = [e for e in entries if _kind(e) in (EventKind.COMPLETED, EventKind.FAILED)]
    if exit_code not in {c.value for c in ExitCode}:
        return Check(
            "exit_code_agrees",
            False,
            f"exit code {exit_code} is not a contract exit code; use {known}",
        )
    if not terminal:
        return Check(
            "exit_code_agrees",
            False,
            f"exited {exit_code} ({ExitCode(exit_code).name}) without a final callback, so the "
            "platform cannot trust either",
        )
    last = terminal[-1]
    kind = _kind(last)
    announced: Any = last.body.get(_EXIT_FIELD) if isinstance(last.body, dict) else None
    if not isinstance(announced, int):
        announced = ExitCode.SUCCESS if kind is EventKind.COMPLETED else ExitCode.TRAINING_FAILURE
    if int(announced) != exit_code:
        hint = (
            "return 1 after report_failed()"
            if kind is EventKind.FAILED
            else "return 0 after report_completed()"
        )
        return Check(
            "exit_code_agrees",
            False,
            f"exited {exit_code} ({ExitCode(exit_code).name}) but the final callback "
            f"#{last.seq} reported '{kind.value}' with exit code {int(announced)}; {hint}",
        )
    return Check(
        "exit_code_agrees",
        True,
        f"exited {exit_code} ({ExitCode(exit_code).name}), as the final callback #{last.seq} said",
    )


def judge(
    job_id: int,
    entries: Sequence[TimelineEntry],
    exit_code: int | None,
    exists: Mapping[str, bool],
    checkpoint_bucket: str,
    *,
    timed_out: bool = False,
    notes: Sequence[str] = (),
) -> Verdict:
    """Run every check; `exists` maps each reported `s3://` URI to whether it is stored."""
    uris = reported_uris(entries)
    checks = (
        _payloads(entries),
        _lifecycle(entries),
        _checkpoints(uris, exists, checkpoint_bucket),
        _exit_code(entries, exit_code, timed_out),
    )
    terminal = [e for e in entries if _kind(e) in (EventKind.COMPLETED, EventKind.FAILED)]
    outcome = _kind(terminal[-1]).value if terminal else None
    remarks = list(notes)
    if terminal and _kind(terminal[-1]) is EventKind.FAILED:
        # Keeping the contract while failing is a pass of the checks, but not a working trainer:
        # say so where nobody can miss it.
        body = terminal[-1].body if isinstance(terminal[-1].body, dict) else {}
        failed = cast(JobFailed, body)
        remarks.insert(
            0,
            f"the job reported a failure (#{terminal[-1].seq}): "
            f"{failed.get('error_message', '(no message)')}; the contract was kept, but training "
            "did not succeed",
        )
    return Verdict(job_id, exit_code, checks, tuple(remarks), outcome)
