"""TRL006 report-completed-not-on-success-path.

How it is checked: a reached `report_completed` call is on the success path when it is outside
every except handler and finally clause, outside the epoch loop and epoch hooks, and after the
start of training. With no such call, the finding points at the first misplaced call (and says
why it is misplaced), or at the SDK's construction when there is no call at all.
"""

from __future__ import annotations

from collections.abc import Iterator

from trainer_tools.trainer_lint.analysis import Analysis
from trainer_tools.trainer_lint.finding import Finding
from trainer_tools.trainer_lint.trace import Event

CODE = "TRL006"


def _misplacement(event: Event, training: Event | None) -> str | None:
    if event.within("handler"):
        return "runs in an except handler, where the job has failed"
    if event.within("finally"):
        return "runs in a finally clause, also when training failed"
    if event.in_epoch_loop or event.hook == "epoch":
        return "runs once per epoch, marking the job completed after its first epoch"
    if training is not None and event.hook is None and event.seq < training.seq:
        line = getattr(training.node, "lineno", 1)
        return f"runs before training starts (line {line})"
    return None


def check(analysis: Analysis) -> Iterator[Finding]:
    """Report a completion that is missing or not on the success path."""
    facts = analysis.facts
    anchor = analysis.lifecycle_anchor()
    if anchor is None:
        return
    if not analysis.is_training_job:
        return  # an export or inference script: no epochs, its own completion call
    events = analysis.method_events(facts.completed)
    training = analysis.trace.training_anchor()
    problems = [(e, _misplacement(e, training)) for e in events]
    if any(reason is None for _, reason in problems):
        return
    if problems:
        event, reason = problems[0]
        yield analysis.finding(
            CODE,
            event.node,
            f"{facts.completed}() {reason}: call it once after the last epoch, at the end of "
            "the try body",
        )
        return
    yield analysis.finding(
        CODE,
        anchor,
        f"{facts.completed}() is never called: call `sdk.{facts.completed}(final_metrics, "
        "checkpoints, total_epochs)` after the last epoch",
    )
