"""TRL027 unknown-metric-name.

How it is checked: the string keys of a literal dict given as `report_progress`'s `metrics` or
`report_completed`'s `final_metrics`, and the literal name of `report_validation`'s
`primary_metric` tuple, against `x-known-metrics` of the metrics schema. The closest known name
(compared without case, `_` and `-`) is suggested. A hint: it never fails the run.
"""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Iterator

from trainer_tools.trainer_lint.analysis import Analysis
from trainer_tools.trainer_lint.contract import ContractFacts, per_facts
from trainer_tools.trainer_lint.finding import Finding

CODE = "TRL027"

# The parameters that carry metric names (by method), read from the SDK API table's metric
# schemas: a parameter whose schema refers to metrics.json.
_METRICS_REF = "metrics.json"
_PRIMARY = "primary_metric"


@per_facts
def _metric_params(facts: ContractFacts, method: str) -> tuple[str, ...]:
    """The parameters of `method` that take metrics (once per run: the schema's repr is long)."""
    spec = facts.methods.get(method)
    if spec is None:
        return ()
    return tuple(p.name for p in spec.params if _METRICS_REF in repr(p.schema))


@per_facts
def _squashed_known(facts: ContractFacts) -> dict[str, str]:
    """Each known name, compared without case, `_` and `-`."""
    return {_squash(k): k for k in facts.known_metrics}


def _squash(name: str) -> str:
    return re.sub(r"[-_ ]", "", name.lower())


def _names(analysis: Analysis) -> Iterator[tuple[ast.Constant, str]]:
    for bound in analysis.bound_calls():
        for param in _metric_params(analysis.facts, bound.method):
            node = bound.arguments.get(param)
            if isinstance(node, ast.Dict):
                for key in node.keys:
                    if isinstance(key, ast.Constant) and isinstance(key.value, str):
                        yield key, bound.method
        primary = bound.arguments.get(_PRIMARY)
        if isinstance(primary, ast.Tuple | ast.List) and primary.elts:
            first = primary.elts[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                yield first, bound.method


def check(analysis: Analysis) -> Iterator[Finding]:
    """Hint at metric names the platform does not know."""
    known = analysis.facts.known_metrics
    if not known:
        return
    squashed = _squashed_known(analysis.facts)
    for node, method in _names(analysis):
        name = str(node.value)
        if name in known:
            continue
        same = squashed.get(_squash(name))
        close = [same] if same else difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}? " if close else ""
        yield analysis.finding(
            CODE,
            node,
            f"{method}(): metric {name!r} is not a name the platform knows; {hint}known names: "
            f"{', '.join(known)} (a metric of your own may keep its name)",
        )
