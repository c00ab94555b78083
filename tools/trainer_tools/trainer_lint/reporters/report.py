"""What every reporter renders: the files linted, their findings and parse errors, the rules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from trainer_contract.lint_rules import LintRule
from trainer_tools.trainer_lint.engine import FileResult
from trainer_tools.trainer_lint.finding import Finding
from trainer_tools.trainer_lint.source import TrainerSyntaxError

__all__ = ["Report"]


@dataclass(frozen=True)
class Report:
    """The outcome of one run."""

    results: list[FileResult]
    rules: Mapping[str, LintRule]
    enabled: frozenset[str]
    version: str

    @property
    def findings(self) -> list[Finding]:
        """Every finding, in file then position order."""
        return [f for r in self.results for f in r.findings]

    @property
    def failing(self) -> list[Finding]:
        """Findings that fail the run: all but hints (severity `hint`)."""
        return [f for f in self.findings if self.rules[f.code].severity != "hint"]

    @property
    def errors(self) -> list[TrainerSyntaxError]:
        """Files that could not be parsed."""
        return [r.error for r in self.results if r.error is not None]
