"""TRL002 report-started-missing.

How it is checked: walks the program from its entry point (stepping into functions of the same
file and into framework hooks) and looks for a `report_started` call on an SDK object. The finding
points at the SDK's construction, where the call belongs right after.
"""

from __future__ import annotations

from collections.abc import Iterator

from trainer_tools.trainer_lint.analysis import Analysis
from trainer_tools.trainer_lint.finding import Finding

CODE = "TRL002"


def check(analysis: Analysis) -> Iterator[Finding]:
    """Report an SDK that never reports the start."""
    anchor = analysis.lifecycle_anchor()
    facts = analysis.facts
    if anchor is None or analysis.method_events(facts.started):
        return
    yield analysis.finding(
        CODE,
        anchor,
        f"{facts.started}() is never called: call `sdk.{facts.started}"
        f"('{facts.training_operation}', total_epochs=epochs)` before the first epoch",
    )
