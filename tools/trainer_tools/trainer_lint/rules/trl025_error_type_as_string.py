"""TRL025 error-type-as-string.

How it is checked: a string literal given for an ErrorType parameter (`report_failed`'s
`error_type`) that the SDK accepts (`trainer_contract.error_type.parse_error_type`: a wire value,
or a member name in any case) is reported with the member to write instead. Strings the SDK
refuses are TRL011.
"""

from __future__ import annotations

from collections.abc import Iterator

from trainer_contract.error_type import parse_error_type, suggest_error_type
from trainer_tools.trainer_lint.analysis import Analysis
from trainer_tools.trainer_lint.finding import Finding

CODE = "TRL025"


def check(analysis: Analysis) -> Iterator[Finding]:
    """Report ErrorType strings the SDK accepts, with the member to write."""
    for string, method in analysis.error_type_strings:
        text = str(string.value)
        if parse_error_type(text) is None:
            continue
        member = suggest_error_type(text)
        yield analysis.finding(
            CODE,
            string,
            f"{method}() gets the ErrorType as the string {text!r}: write {member} (a typo in "
            "a string only shows when the job fails; a member is checked before it runs)",
        )
