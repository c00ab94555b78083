"""The conformance report: one result per check, with the failures a platform engineer must fix."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["CheckResult", "Report"]

_MAX_SHOWN = 8


@dataclass
class CheckResult:
    """One check: how many requests it made and what failed, each failure a readable line."""

    name: str
    description: str
    requests: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing failed (and the check made at least one request)."""
        return not self.failures and self.requests > 0

    def fail(self, message: str) -> None:
        """Record a failure."""
        self.failures.append(message)

    def to_json(self) -> dict[str, Any]:
        """The result as a JSON object."""
        return {
            "name": self.name,
            "description": self.description,
            "ok": self.ok,
            "requests": self.requests,
            "failures": list(self.failures),
        }


@dataclass
class Report:
    """Every check run against one backend."""

    base_url: str
    results: list[CheckResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every check passed."""
        return bool(self.results) and all(r.ok for r in self.results)

    def add(self, name: str, description: str) -> CheckResult:
        """Start a new check."""
        result = CheckResult(name, description)
        self.results.append(result)
        return result

    def to_json(self) -> dict[str, Any]:
        """The report as a JSON object."""
        return {
            "base_url": self.base_url,
            "ok": self.ok,
            "results": [r.to_json() for r in self.results],
        }

    def format(self) -> str:
        """The report as text: a line per check, then its failures."""
        width = max((len(r.name) for r in self.results), default=0)
        lines = [f"conformance of {self.base_url} to the trainer callback contract"]
        for result in self.results:
            mark = "PASS" if result.ok else "FAIL"
            lines.append(
                f"  {mark}  {result.name.ljust(width)}  {result.description} "
                f"({result.requests} requests)"
            )
            if not result.requests and not result.failures:
                lines.append("          - no request was made: nothing was checked")
            for failure in result.failures[:_MAX_SHOWN]:
                first, *rest = failure.splitlines() or [""]
                lines.append(f"          - {first}")
                lines.extend(f"            {line}" for line in rest[:6])
            if len(result.failures) > _MAX_SHOWN:
                lines.append(f"          ... and {len(result.failures) - _MAX_SHOWN} more")
        passed = sum(r.ok for r in self.results)
        lines.append(
            f"{'PASS' if self.ok else 'FAIL'}: {passed} of {len(self.results)} checks passed"
        )
        return "\n".join(lines)
