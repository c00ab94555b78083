"""TRL012 deprecated-error-type.

How it is checked: every `ErrorType.NAME` whose name is a key of
`trainer_contract.error_type.ERROR_TYPE_ALIASES`. The message names the member it stands for.
"""

from __future__ import annotations

from collections.abc import Iterator

from trainer_tools.trainer_lint.analysis import Analysis
from trainer_tools.trainer_lint.finding import Finding

CODE = "TRL012"


def check(analysis: Analysis) -> Iterator[Finding]:
    """Report deprecated ErrorType aliases."""
    aliases = analysis.facts.error_aliases
    for node, member in analysis.error_type_members:
        if member not in aliases:
            continue
        target = aliases[member]
        yield analysis.finding(
            CODE,
            node,
            f"ErrorType.{member} is a deprecated alias of ErrorType.{target}: write "
            f"ErrorType.{target}, or the specific member that names the failure",
        )
