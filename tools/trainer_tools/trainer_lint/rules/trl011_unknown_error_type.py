"""TRL011 unknown-error-type.

How it is checked: every attribute of `ErrorType` (under any import alias, or as
`trainer_sdk.ErrorType`) must be a member, a deprecated alias, or part of the enum's own API
(`ErrorType.__members__`). The message lists the closest members.
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Iterator

from trainer_tools.trainer_lint.analysis import Analysis
from trainer_tools.trainer_lint.finding import Finding

CODE = "TRL011"


def check(analysis: Analysis) -> Iterator[Finding]:
    """Report ErrorType members that do not exist."""
    facts = analysis.facts
    for node in analysis.of(ast.Attribute):
        member = analysis.error_type_member(node)
        if member is None or member.startswith("_"):
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
