"""TRL011 unknown-error-type.

How it is checked: every attribute of `ErrorType` (under any import alias, or as
`trainer_sdk.ErrorType`) must be a member, a deprecated alias, or part of the enum's own API
(`ErrorType.__members__`). A string literal given for an ErrorType parameter
(`report_failed("GPU_ERROR", ...)`) must be one the SDK accepts, judged by the same generated
table (`trainer_contract.error_type.parse_error_type`). The message names the closest member.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from trainer_contract.error_type import parse_error_type, suggest_error_type
from trainer_tools.trainer_lint.analysis import Analysis
from trainer_tools.trainer_lint.finding import Finding

CODE = "TRL011"


def check(analysis: Analysis) -> Iterator[Finding]:
    """Report ErrorType members that do not exist."""
    facts = analysis.facts
    for node, member in analysis.error_type_members:
        if member.startswith("_"):
            continue
        if member in facts.error_values or member in facts.error_attributes:
            continue
        close = difflib.get_close_matches(member, facts.error_members, n=2, cutoff=0.5)
        hint = " or ".join(f"ErrorType.{c}" for c in close) if close else "one of the members"
        yield analysis.finding(
            CODE,
            node,
            f"ErrorType.{member} does not exist: use {hint} "
            f"(members: {', '.join(facts.error_members)})",
        )
    for string, method in analysis.error_type_strings:
        text = str(string.value)
        if parse_error_type(text) is not None:
            continue
        yield analysis.finding(
            CODE,
            string,
            f"{text!r} is not an ErrorType: {method}() refuses it at run time and the failure is "
            f"never reported; use {suggest_error_type(text)} "
            f"(members: {', '.join(facts.error_members)})",
        )
