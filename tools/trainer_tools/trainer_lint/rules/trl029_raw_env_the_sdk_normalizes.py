"""TRL029 raw-env-the-sdk-normalizes.

How it is checked: every read of the environment with a string literal name (`os.getenv("X")`,
`os.environ.get("X")`, `os.environ["X"]` and the other readers of
`x-lint-vocabulary.path_default_readers`) of a variable listed in
`x-lint-vocabulary.sdk_env_properties`. Why the raw value misleads comes from the contract: a
variable with an `x-derive` (DATASET_S3_URI) arrives in several forms, a variable such a
derivation fills (DATASET_ID) may be empty, and the others are spellings the SDK maps (TASK_TYPE's
aliases).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from trainer_contract.config import TASK_TYPE_ALIASES
from trainer_contract.env import ENV_DERIVATIONS
from trainer_tools.trainer_lint.analysis import Analysis
from trainer_tools.trainer_lint.finding import Finding
from trainer_tools.trainer_lint.symbols import dotted_name, terminal_name

CODE = "TRL029"
_ENVIRON = ("os.environ", "environ")


def _why(variable: str) -> str:
    if variable in ENV_DERIVATIONS:
        return (
            "the platform passes it in more than one form (a bare dataset id such as "
            "'ds_c75023ca', or s3://{bucket}/datasets/{id}/), so parsing it by hand breaks on one "
            "of them"
        )
    for source, derivation in ENV_DERIVATIONS.items():
        if any(v == variable and not o for v, o in derivation.groups.values()):
            return (
                f"it is empty when the platform gives only {source}, from which the SDK derives it"
            )
    alias, canonical = next(iter(sorted(TASK_TYPE_ALIASES.items())))
    return (
        f"the platform's spellings ({alias!r}) reach the trainer as they are; the SDK maps them "
        f"to the contract's names ({canonical!r})"
    )


def _reads(analysis: Analysis) -> Iterator[tuple[ast.AST, str]]:
    for call in analysis.env_reads:
        first = call.args[0] if call.args else None
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            yield call, first.value
    for subscript in analysis.of(ast.Subscript):
        key = subscript.slice
        if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
            continue
        if terminal_name(subscript.value) == "environ" and dotted_name(subscript.value) in _ENVIRON:
            yield subscript, key.value


def check(analysis: Analysis) -> Iterator[Finding]:
    """Report raw reads of job variables the SDK normalizes."""
    properties = analysis.facts.sdk_env_properties
    for node, variable in _reads(analysis):
        prop = properties.get(variable)
        if prop is None:
            continue
        yield analysis.finding(
            CODE,
            node,
            f"{variable} read from the environment: {_why(variable)}; read sdk.{prop} instead",
        )
