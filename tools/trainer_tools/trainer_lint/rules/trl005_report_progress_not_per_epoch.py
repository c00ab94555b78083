"""TRL005 report-progress-not-per-epoch.

How it is checked: at least one reached `report_progress` call must be inside a loop (in the
walked path, so a helper called from a loop counts) or inside a framework hook. The finding points
at the first call, which runs only once.
"""

from __future__ import annotations

from collections.abc import Iterator

from trainer_tools.trainer_lint.analysis import Analysis
from trainer_tools.trainer_lint.finding import Finding

CODE = "TRL005"


def check(analysis: Analysis) -> Iterator[Finding]:
    """Report progress that is sent once instead of every epoch."""
    facts = analysis.facts
    events = analysis.method_events(facts.progress)
    if not events:
        return
    if not analysis.is_training_job:
        return  # an export or inference script: no epochs, its own completion call
    if any(e.in_loop or e.hook in ("epoch", "callback") for e in events):
        return
    yield analysis.finding(
        CODE,
        events[0].node,
        f"{facts.progress}() runs once, not once per epoch: move it into the epoch loop "
        "or an epoch-end hook",
    )
