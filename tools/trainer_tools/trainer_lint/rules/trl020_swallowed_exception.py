"""TRL020 swallowed-exception.

How it is checked: every broad except handler (`except Exception`, `except BaseException`, bare
`except`) of a `try` that covers training: the `try` encloses the start of training on the walked
path, or sits inside the epoch loop of the main path and does work there (calls that are not SDK
reports or logging). Such a handler must call `report_failed`, re-raise, exit, or return a value
other than 0/None. Handlers inside framework hooks are not judged: a hook may keep a reporting
error from stopping training.
"""

from __future__ import annotations

from collections.abc import Iterator

from trainer_tools.trainer_lint.analysis import Analysis
from trainer_tools.trainer_lint.finding import Finding
from trainer_tools.trainer_lint.trace import is_broad_handler

CODE = "TRL020"


def check(analysis: Analysis) -> Iterator[Finding]:
    """Report handlers that hide a training failure."""
    facts = analysis.facts
    if analysis.lifecycle_anchor() is None:
        return
    seen: set[int] = set()
    for info in analysis.trace.tries:
        if not info.covers_training or id(info.node) in seen:
            continue
        seen.add(id(info.node))
        for handler in info.node.handlers:
            if not is_broad_handler(handler):
                continue
            if analysis.handler_reports(handler) or analysis.handler_propagates(handler):
                continue
            yield analysis.finding(
                CODE,
                handler,
                "this handler swallows exceptions raised by training: call "
                f"`sdk.{facts.failed}(...)` and return 1, or re-raise with `raise`",
            )
