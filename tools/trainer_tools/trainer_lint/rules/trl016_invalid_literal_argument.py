"""TRL016 invalid-literal-argument.

How it is checked: every literal argument of an SDK call (strings, numbers, booleans, None, and
dicts, lists and tuples of them, with non-literal parts left out) is validated with the
method's argument validator from `trainer_contract.validators` (`sdk-api#/$defs/<method>`), so
`operation_type`, `task_type`, `level`, `storage_type` and every other parameter is judged by its
schema. Missing dict keys are TRL015.
"""

from __future__ import annotations

from collections.abc import Iterator

from trainer_tools.trainer_lint.analysis import Analysis
from trainer_tools.trainer_lint.finding import Finding

CODE = "TRL016"


def check(analysis: Analysis) -> Iterator[Finding]:
    """Report literal arguments their schema rejects."""
    for bound, problem in analysis.literal_problems:
        if problem.missing_key is not None:
            continue
        yield analysis.finding(
            CODE,
            problem.node,
            f"invalid `{problem.param}` for {bound.method}(): {problem.message} "
            f"(at {problem.path}, schema keyword '{problem.keyword}')",
        )
