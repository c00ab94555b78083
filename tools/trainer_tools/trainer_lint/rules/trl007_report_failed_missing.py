"""TRL007 report-failed-missing.

How it is checked: takes the start of training (the first epoch loop or framework training call
on the walked path) and the `try` statements around it, through the calls that lead there. One of
their broad handlers (`except Exception`, `except BaseException`, bare `except`) must call
`report_failed`, itself or through a function of the same file. A handler that hides the error
altogether is TRL020's finding instead. Training run by the SDK's `run(main)` is covered: `run`
reports whatever escapes `main`. The finding points at the innermost broad handler, or at the
start of training when no `try` covers it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from trainer_tools.trainer_lint.analysis import Analysis
from trainer_tools.trainer_lint.finding import Finding
from trainer_tools.trainer_lint.trace import is_broad_handler

CODE = "TRL007"


def check(analysis: Analysis) -> Iterator[Finding]:
    """Report training that no handler reports the failure of."""
    facts = analysis.facts
    anchor = analysis.lifecycle_anchor()
    if anchor is None:
        return
    fix = (
        f"wrap it in `try:` ... `except Exception as exc: sdk.{facts.failed}(ErrorType.X, "
        "str(exc), traceback.format_exc()); return 1`"
    )
    training = analysis.trace.training_anchor()
    if training is None and analysis.trace.uses_runner:
        return  # run(main) reports whatever escapes main
    if training is not None and training.within("runner"):
        return  # run(main) reports whatever escapes main
    if training is None:
        if not any(e.within("handler") for e in analysis.method_events(facts.failed)):
            yield analysis.finding(
                CODE, anchor, f"{facts.failed}() is never called from an except handler: {fix}"
            )
        return
    handlers: list[ast.ExceptHandler] = []
    for frame in training.frames:
        if frame.kind == "try" and isinstance(frame.node, ast.Try | ast.TryStar):
            handlers += [h for h in frame.node.handlers if is_broad_handler(h)]
    if any(analysis.handler_reports(h) for h in handlers):
        return
    if any(not analysis.handler_propagates(h) for h in handlers):
        return  # a swallowing handler: TRL020 reports it
    line = getattr(training.node, "lineno", 1)
    if handlers:
        yield analysis.finding(
            CODE,
            handlers[-1],
            f"this handler covers training (line {line}) but does not call {facts.failed}(): "
            f"report the failure before returning or re-raising",
        )
        return
    yield analysis.finding(
        CODE,
        training.node,
        f"training is not covered by an except handler that calls {facts.failed}(): {fix}",
    )
