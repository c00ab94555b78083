"""TRL004 report-progress-missing.

How it is checked: looks for a `report_progress` call on the walked path: in the entry function,
in functions of the same file it calls (a helper called from the epoch loop), in functions given
to a callback registration (`model.add_callback("on_fit_epoch_end", fn)`) or a hook keyword, and
in the hook methods (`on_epoch_end`, `on_train_epoch_end`, `after_train_epoch`, ...) of callback
classes the file instantiates. The finding points at the start of training, or at the SDK's
construction when no training was recognised.
"""

from __future__ import annotations

from collections.abc import Iterator

from trainer_tools.trainer_lint.analysis import Analysis
from trainer_tools.trainer_lint.finding import Finding

CODE = "TRL004"


def check(analysis: Analysis) -> Iterator[Finding]:
    """Report a training that never reports progress."""
    facts = analysis.facts
    anchor = analysis.lifecycle_anchor()
    if anchor is None or analysis.method_events(facts.progress):
        return
    if not analysis.is_training_job:
        return  # an export or inference script: no epochs, its own completion call
    training = analysis.trace.training_anchor()
    where = training.node if training is not None else anchor
    yield analysis.finding(
        CODE,
        where,
        f"{facts.progress}() is never reached during training: call `sdk.{facts.progress}"
        "(epoch, total_epochs, {'loss': loss})` once per epoch, in the loop or an epoch-end hook",
    )
