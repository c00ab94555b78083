"""`job_lifecycle.py`: the job lifecycle, resume and termination budget (lifecycle.json
`x-job-lifecycle`)."""

from __future__ import annotations

import textwrap
from typing import Any

from trainer_tools.codegen.context import GenContext

_EVENTS = ("started", "progress", "completed", "failed")


def _check(table: dict[str, Any]) -> None:
    phases = table["phases"]
    terminal = table["terminal"]
    if not set(terminal) <= set(phases):
        raise SystemExit("lifecycle.json x-job-lifecycle: terminal phases must be phases")
    seen: set[tuple[str, str]] = set()
    for row in table["transitions"]:
        key = (row["from"], row["event"])
        if row["from"] not in phases or row["to"] not in phases or row["event"] not in _EVENTS:
            raise SystemExit(f"lifecycle.json x-job-lifecycle: bad transition {row}")
        if row["from"] in terminal and not row.get("resume"):
            raise SystemExit(f"lifecycle.json x-job-lifecycle: {row} leaves a terminal phase")
        if key in seen:
            raise SystemExit(f"lifecycle.json x-job-lifecycle: two transitions for {key}")
        seen.add(key)
    term = table["termination"]
    if not 0 < term["final_report_seconds"] < term["grace_period_seconds"]:
        raise SystemExit(
            "lifecycle.json x-job-lifecycle: final_report_seconds must be below the grace period"
        )


def generate(ctx: GenContext) -> dict[str, str]:
    """Write the phases, the transition table and the termination budget."""
    table: dict[str, Any] = ctx.schemas["lifecycle"]["x-job-lifecycle"]
    _check(table)
    term = table["termination"]
    rows = "\n".join(
        f"    ({row['from']!r}, {row['event']!r}): Transition({row['to']!r}, "
        f"resume={bool(row.get('resume', False))!r}),"
        for row in table["transitions"]
    )
    text = f'''{ctx.header()}
"""The job lifecycle (lifecycle.json `x-job-lifecycle`).

{textwrap.fill(table["description"], 96)}
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "EVENTS",
    "FINAL_REPORT_SECONDS",
    "PHASES",
    "START_EPOCH",
    "TERMINAL_PHASES",
    "TERMINATION_GRACE_SECONDS",
    "TRANSITIONS",
    "Transition",
]


@dataclass(frozen=True)
class Transition:
    """Where an event takes a job; `resume`: a restart with the same JOB_ID."""

    to: str
    resume: bool = False


PHASES: tuple[str, ...] = {tuple(table["phases"])!r}
TERMINAL_PHASES: frozenset[str] = frozenset({tuple(table["terminal"])!r})
EVENTS: tuple[str, ...] = {_EVENTS!r}
# A training's start report is the progress report at this epoch (report_started sends it).
START_EPOCH = {table["start_epoch"]!r}
# (phase, event) -> Transition; a pair not listed is a conflict.
TRANSITIONS: dict[tuple[str, str], Transition] = {{
{rows}
}}
# The Job's terminationGracePeriodSeconds: SIGKILL follows SIGTERM after this long.
TERMINATION_GRACE_SECONDS = {term["grace_period_seconds"]!r}
# run() reports a SIGTERM as a failure within this many seconds of the signal.
FINAL_REPORT_SECONDS = {term["final_report_seconds"]!r}
'''
    return {"job_lifecycle.py": text}
