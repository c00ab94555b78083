"""TRL003 report-started-after-training.

How it is checked: in run order, the first `report_started` must come before the first epoch loop
(a loop whose variable or bound mentions `epoch`), framework training call (`.fit()`, `.train()`
of an object that is not defined in the file) and `report_progress` call of the main path. A
`report_started` inside a framework start hook (`on_train_start`, `before_train`, ...) counts as
before training; one inside an epoch hook does not. PyTorch's mode switch is not training:
`model.train()` with no argument (on an object whose `.eval()` the file also calls) or with one
flag (`train(False)`, `train(mode=True)`); the pairs are `x-lint-vocabulary.mode_switches`.
"""

from __future__ import annotations

from collections.abc import Iterator

from trainer_tools.trainer_lint.analysis import Analysis
from trainer_tools.trainer_lint.finding import Finding

CODE = "TRL003"


def check(analysis: Analysis) -> Iterator[Finding]:
    """Report a start report that comes too late."""
    facts = analysis.facts
    started = analysis.method_events(facts.started)
    if not started:
        return
    if not analysis.is_training_job:
        return  # an export or inference script: no epochs, its own completion call
    first = started[0]
    if first.hook == "start":
        return
    if first.hook is not None:
        yield analysis.finding(
            CODE,
            first.node,
            f"{facts.started}() is only called from a framework '{first.hook}' hook, after training "
            "has begun: call it before the training call",
        )
        return
    begun = [
        e
        for e in analysis.trace.events
        if e.hook is None
        and (e.kind == "training" or (e.kind == "call" and e.method == facts.progress))
    ]
    if begun and begun[0].seq < first.seq:
        what = "training" if begun[0].kind == "training" else f"{facts.progress}()"
        line = getattr(begun[0].node, "lineno", 1)
        yield analysis.finding(
            CODE,
            first.node,
            f"{facts.started}() runs after {what} has begun (line {line}): move it above line {line}",
        )
