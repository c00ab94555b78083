"""Judge a dry-run: did the trainer keep the contract, end to end?

Four checks, each with a stable name (the JSON output uses it) and details that name the callback
(its timeline number), the JSON path and the fix:

- `payloads_valid`: the backend accepted every payload against its schema (no 422).
- `lifecycle_in_order`: started first, epochs never going backwards, exactly one final callback
  (completion or failure), nothing refused as out of order (no 409).
- `checkpoints_exist`: every `s3://` URI a callback reported exists, and the checkpoints of the
  final report are in the internal (checkpoint) bucket.
- `exit_code_agrees`: the process exit code is the one the final callback announced.
- `validation_accepted`: every validation result the trainer sent was accepted (a refused one is
  lost: the platform shows no validation for that epoch).
- `training_succeeded`: the job reported its completion and the trainer exited 0. A trainer that
  keeps the contract while failing is still a failed training: the dry-run says FAIL. With
  `expect_failure` (`--expect-failure`, for testing failure paths) the check is inverted: it
  passes when the job reported a failure and exited with the failure code, and fails when the
  training succeeded.

The module is pure: it gets the timeline, the exit code and the S3 lookups from the runner.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from trainer_contract.callbacks import ENDPOINTS
from trainer_contract.exit_codes import ExitCode
from trainer_contract.lint_rules import LIFECYCLE_METHODS
from trainer_contract.models.callbacks.failed import JobFailed
from trainer_contract.models.callbacks.training_completed import TrainingCompleted
from trainer_contract.models.callbacks.validation import ValidationResult
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

CHECK_NAMES = (
    "payloads_valid",
    "lifecycle_in_order",
    "checkpoints_exist",
    "exit_code_agrees",
    "validation_accepted",
    "training_succeeded",
)
_MAX_DETAILS = 12
_EXIT_FIELD = "exit_code"  # checked against the generated models below
_CHECKPOINT_WORD = "checkpoint"
assert _EXIT_FIELD in TrainingCompleted.__annotations__ and _EXIT_FIELD in JobFailed.__annotations__
# The validation body's schema name, from its generated model's module (models/callbacks/x.py is
# the schema callbacks/x), and the endpoints that carry it.
_VALIDATION_SCHEMA = "/".join(ValidationResult.__module__.split(".")[-2:])
VALIDATION_ENDPOINTS = frozenset(
    e.name for e in ENDPOINTS.values() if _VALIDATION_SCHEMA in e.bodies
)
assert VALIDATION_ENDPOINTS, "no endpoint carries the validation body"
_EPOCH_FIELD = "epoch"
assert _EPOCH_FIELD in ValidationResult.__annotations__


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
    expect_failure: bool = False  # judged with --expect-failure

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
            "expect_failure": self.expect_failure,
            "checks": [c.to_json() for c in self.checks],
            "notes": list(self.notes),
        }

    def format(self, color: bool = False) -> str:
        """The verdict as text lines; `color` paints PASS green and FAIL red (ANSI SGR)."""
        width = max(len(c.name) for c in self.checks)
        lines = [f"verdict: {paint(self.ok, color)}"]
        for check in self.checks:
            mark = paint(check.ok, color)
            lines.append(f"  {mark}  {check.name.ljust(width)}  {check.summary}")
            shown = check.details[:_MAX_DETAILS]
            lines.extend(f"          - {d}" for d in shown)
            if len(check.details) > len(shown):
                lines.append(f"          ... and {len(check.details) - len(shown)} more")
        lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines)


_GREEN, _RED, _RESET = "\033[1;32m", "\033[1;31m", "\033[0m"


def paint(ok: bool, color: bool) -> str:
    """`PASS` or `FAIL`, in bold green or red when `color`."""
    word = "PASS" if ok else "FAIL"
    if not color:
        return word
    return f"{_GREEN if ok else _RED}{word}{_RESET}"


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


def _validation(entries: Sequence[TimelineEntry]) -> Check:
    sent = [e for e in entries if e.endpoint in VALIDATION_ENDPOINTS]
    if not sent:
        return Check("validation_accepted", True, "no validation result reported")
    refused = [e for e in sent if not e.accepted]
    if refused:
        details = []
        for entry in refused:
            errors = entry.response.get("errors")
            first = errors[0] if isinstance(errors, list) and errors else None
            reason = (
                f"{first.get('path')}: {first.get('message')}"
                if isinstance(first, dict)
                else str(entry.response.get("detail") or entry.response.get("title") or "")
            )
            details.append(f"#{entry.seq} {entry.endpoint}: {entry.status_code} {reason}".rstrip())
        return Check(
            "validation_accepted",
            False,
            f"{len(refused)} of {len(sent)} validation result(s) refused: the platform keeps no "
            "validation for those epochs; fix the fields named below",
            tuple(details),
        )
    epochs = sorted(
        {
            e.body[_EPOCH_FIELD]
            for e in sent
            if isinstance(e.body, dict) and isinstance(e.body.get(_EPOCH_FIELD), int)
        }
    )
    shown = ", ".join(str(n) for n in epochs[:10]) + (" ..." if len(epochs) > 10 else "")
    return Check(
        "validation_accepted",
        True,
        f"{len(sent)} validation result(s) accepted" + (f" (epochs {shown})" if epochs else ""),
    )


def _succeeded(
    entries: Sequence[TimelineEntry], exit_code: int | None, expect_failure: bool
) -> Check:
    terminal = [e for e in entries if _kind(e) in (EventKind.COMPLETED, EventKind.FAILED)]
    last = terminal[-1] if terminal else None
    kind = _kind(last) if last is not None else None
    failed_by = ""
    if last is not None and kind is EventKind.FAILED:
        body = cast(JobFailed, last.body if isinstance(last.body, dict) else {})
        failed_by = f" (#{last.seq}: {body.get('error_message', '(no message)')})"
    success = int(ExitCode.SUCCESS)
    failure = int(ExitCode.TRAINING_FAILURE)
    if expect_failure:
        if kind is EventKind.FAILED and exit_code == failure:
            return Check(
                "training_succeeded",
                True,
                f"failed as expected (--expect-failure): reported a failure{failed_by} and "
                f"exited {failure}",
            )
        if kind is EventKind.COMPLETED and exit_code == success:
            said = "the training succeeded although --expect-failure was given"
        else:
            said = (
                "--expect-failure: expected a reported failure and exit code "
                f"{failure}, got {kind.value if kind else 'no final callback'} and exit code "
                f"{exit_code if exit_code is not None else '(none: stopped)'}"
            )
        return Check("training_succeeded", False, said)
    if kind is EventKind.COMPLETED and exit_code == success:
        return Check("training_succeeded", True, f"completed (#{last.seq if last else 0}), exit 0")
    if kind is EventKind.FAILED:
        said = f"the job reported a failure{failed_by}"
    elif kind is None:
        said = "the job never reported its completion"
    else:
        said = "the job reported its completion"
    if exit_code is None:
        said += " and the trainer was stopped after the timeout"
    elif exit_code != success:
        said += f" and the trainer exited {exit_code}"
    return Check(
        "training_succeeded",
        False,
        f"{said}: the training did not succeed (pass --expect-failure when testing a failure path)",
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
    expect_failure: bool = False,
) -> Verdict:
    """Run every check; `exists` maps each reported `s3://` URI to whether it is stored.

    `expect_failure` says the run tests a failure path: a reported failure then passes
    `training_succeeded` and a success fails it.
    """
    uris = reported_uris(entries)
    checks = (
        _payloads(entries),
        _lifecycle(entries),
        _checkpoints(uris, exists, checkpoint_bucket),
        _exit_code(entries, exit_code, timed_out),
        _validation(entries),
        _succeeded(entries, None if timed_out else exit_code, expect_failure),
    )
    terminal = [e for e in entries if _kind(e) in (EventKind.COMPLETED, EventKind.FAILED)]
    outcome = _kind(terminal[-1]).value if terminal else None
    remarks = list(notes)
    return Verdict(job_id, exit_code, checks, tuple(remarks), outcome, expect_failure)
