"""TRL015 metrics-missing-loss.

How it is checked: a literal dict argument of an SDK call (such as `metrics` of `report_progress`)
is validated against the parameter's JSON Schema in `trainer_contract.sdk_api`; a `required` key
it lacks (`loss`) is this rule. Values that are not literals are not judged, only the keys.
"""

from __future__ import annotations

from collections.abc import Iterator

from trainer_tools.trainer_lint.analysis import Analysis
from trainer_tools.trainer_lint.finding import Finding

CODE = "TRL015"


def check(analysis: Analysis) -> Iterator[Finding]:
    """Report literal dicts that lack a required key."""
    for bound, problem in analysis.literal_problems:
        if problem.missing_key is None:
            continue
        key = problem.missing_key
        yield analysis.finding(
            CODE,
            problem.node,
            f"`{problem.param}` of {bound.method}() lacks the required key '{key}': "
            f"add `'{key}': ...` to the dict",
        )
