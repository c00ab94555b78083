"""The rule registry: one module per rule, discovered by name, matched to the generated table.

A rule module defines `CODE` (a key of `trainer_contract.lint_rules.LINT_RULES`) and
`check(analysis) -> Iterator[Finding]`, where the analysis is an `Analysis` (Python rules) or a
`DockerfileAnalysis` (rules whose `language` is `dockerfile`); its docstring says how the rule is
checked. What the rule
is for, why, and its examples live in `schemas/lifecycle.json`, so the documentation and the code
that enforces it are joined by the code alone.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from trainer_tools.trainer_lint.contract import facts
from trainer_tools.trainer_lint.finding import Finding

__all__ = ["LIFECYCLE_PLACEMENTS", "RegisteredRule", "registry", "rules_for"]

# Rules whose placement concerns the entry point's lifecycle; the others ("anywhere") apply to
# every Python file, including helper modules of a trainer.
LIFECYCLE_PLACEMENTS = frozenset(
    {
        "constructed",
        "before_training",
        "per_epoch",
        "success_path",
        "exception_handler",
        "finally_or_with",
        "entry_point",
    }
)


@dataclass(frozen=True)
class RegisteredRule:
    """A rule's code, its check function, and how it is checked (the module docstring)."""

    code: str
    check: Callable[[Any], Iterator[Finding]]
    """Takes an `Analysis` (Python) or a `DockerfileAnalysis` (see `language`)."""
    how: str
    lifecycle: bool
    language: str


def _load(module: ModuleType) -> RegisteredRule:
    code = getattr(module, "CODE", None)
    check = getattr(module, "check", None)
    table = facts().rules
    if not isinstance(code, str) or check is None or code not in table:
        raise RuntimeError(
            f"{module.__name__}: a rule module needs CODE (a code of schemas/lifecycle.json "
            "x-rules) and check(); add the rule to the schema and run `make generate`"
        )
    doc = (module.__doc__ or "").strip()
    how = doc.split("\n", 1)[1].strip() if "\n" in doc else doc
    how = how.removeprefix("How it is checked:").strip()
    how = how[:1].upper() + how[1:]
    lifecycle = table[code].contract.placement in LIFECYCLE_PLACEMENTS
    return RegisteredRule(code, check, how, lifecycle, table[code].language)


@functools.cache
def registry() -> dict[str, RegisteredRule]:
    """Every rule module of this package, by code, in code order."""
    found: dict[str, RegisteredRule] = {}
    for info in pkgutil.iter_modules(__path__):
        rule = _load(importlib.import_module(f"{__name__}.{info.name}"))
        if rule.code in found:
            raise RuntimeError(f"two rule modules claim {rule.code}")
        found[rule.code] = rule
    return dict(sorted(found.items()))


@functools.cache
def rules_for(language: str) -> dict[str, RegisteredRule]:
    """The rules that check one kind of file (`python` or `dockerfile`), by code (made once per
    process, like the registry: the engine asks per file). Do not change the dict."""
    return {code: rule for code, rule in registry().items() if rule.language == language}
