"""TRL023 progress-without-loss.

How it is checked: the `metrics` argument of each `report_progress` call (matched to the
method's parameters from `trainer_contract.sdk_api`), when it is a literal dict without `**`
entries, must have every key metrics.json recommends (`x-recommended`: `loss`). Dicts that are
not written literally are not judged.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from trainer_tools.trainer_lint.analysis import Analysis
from trainer_tools.trainer_lint.finding import Finding

CODE = "TRL023"
_PARAM = "metrics"


def check(analysis: Analysis) -> Iterator[Finding]:
    """Report literal progress metrics without the recommended ones."""
    recommended = analysis.facts.recommended_metrics
    progress = analysis.facts.progress
    for bound in analysis.bound_calls():
        if bound.method != progress:
            continue
        metrics = bound.arguments.get(_PARAM)
        if not isinstance(metrics, ast.Dict) or any(key is None for key in metrics.keys):
            continue
        keys = {k.value for k in metrics.keys if isinstance(k, ast.Constant)}
        if len(keys) != len(metrics.keys):
            continue  # a computed key may be the one
        missing = [name for name in recommended if name not in keys]
        if missing:
            yield analysis.finding(
                CODE,
                metrics,
                f"{progress}() metrics have no {', '.join(repr(m) for m in missing)}: the report "
                "is sent, but the job's loss curve stays empty; add the epoch's training loss",
            )
