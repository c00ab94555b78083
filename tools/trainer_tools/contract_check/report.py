"""The conformance report: one result per check, with the failures a platform engineer must fix.

Every failure has a kind, so that a report on a real backend says what to act on:

- `defect`: the backend is broken whatever the contract says: a 5xx answer to a callback, or an
  update lost (a 2xx answer whose state is not the job's state any more, such as a completed
  job flipped back to `running` by a late progress report);
- `difference`: the backend works but differs from this contract: its error format (FastAPI's
  `{"detail": ...}` instead of problem+json), no 409 lifecycle rules, no `Idempotency-Key`, a body
  the contract refuses but the backend accepts. The SDK copes with each (it validates before
  sending, and retries only what is safe); the report says what the backend would need to conform;
- `not checked`: the check could not run here (the job does not exist on this backend: a real
  platform creates jobs before their Job runs; give existing ones with `--job-id`).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CheckResult", "Report"]

_MAX_SHOWN = 8
_MAX_THEMES = 12
_PATH = re.compile(r"^(POST|GET) \S+ ")
DEFECT, DIFFERENCE, NOT_CHECKED = "defect", "difference", "not checked"
KINDS: tuple[str, ...] = (DEFECT, DIFFERENCE, NOT_CHECKED)


@dataclass
class CheckResult:
    """One check: how many requests it made and what failed, each failure a readable line."""

    name: str
    description: str
    requests: int = 0
    failures: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)  # the kind of each failure, same order

    @property
    def ok(self) -> bool:
        """True when nothing failed (and the check made at least one request)."""
        return not self.failures and self.requests > 0

    def fail(self, message: str, kind: str = DIFFERENCE) -> None:
        """Record a failure of a kind (`defect`, `difference` or `not checked`)."""
        if kind not in KINDS:
            raise ValueError(f"unknown failure kind {kind!r}")
        self.failures.append(message)
        self.kinds.append(kind)

    def count(self, kind: str) -> int:
        """How many failures of that kind."""
        return self.kinds.count(kind)

    @property
    def mark(self) -> str:
        """PASS, FAIL (a defect or a difference), or SKIP (only checks that could not run)."""
        if self.ok:
            return "PASS"
        if self.failures and all(kind == NOT_CHECKED for kind in self.kinds):
            return "SKIP"
        return "FAIL"

    def to_json(self) -> dict[str, Any]:
        """The result as a JSON object."""
        return {
            "name": self.name,
            "description": self.description,
            "ok": self.ok,
            "requests": self.requests,
            "failures": list(self.failures),
            "kinds": list(self.kinds),
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

    def count(self, kind: str) -> int:
        """How many failures of that kind, over every check."""
        return sum(r.count(kind) for r in self.results)

    def themes(self) -> list[tuple[str, str, int]]:
        """The most frequent findings as (kind, theme, count), defects first: one line per thing
        to change, however many requests showed it. A theme is the first line of a failure with
        the route and quoted bodies left out."""
        counts: Counter[tuple[str, str]] = Counter()
        for result in self.results:
            for failure, kind in zip(result.failures, result.kinds, strict=True):
                if kind == NOT_CHECKED:
                    continue
                first = failure.splitlines()[0] if failure else ""
                theme = _PATH.sub("", first)
                theme = theme.split(" Body: ")[0].split(": {")[0].split(": [")[0]
                theme = re.sub(r"got (\d+): .*", r"got \1", theme)
                counts[(kind, theme[:160])] += 1
        ordered = sorted(counts.items(), key=lambda item: (KINDS.index(item[0][0]), -item[1]))
        return [(kind, theme, count) for (kind, theme), count in ordered]

    @property
    def defects(self) -> int:
        """How many defects (5xx answers, lost updates): what must be fixed in any case."""
        return self.count(DEFECT)

    def to_json(self) -> dict[str, Any]:
        """The report as a JSON object."""
        return {
            "base_url": self.base_url,
            "ok": self.ok,
            "defects": self.count(DEFECT),
            "differences": self.count(DIFFERENCE),
            "not_checked": self.count(NOT_CHECKED),
            "results": [r.to_json() for r in self.results],
        }

    def format(self) -> str:
        """The report as text: a line per check, then its failures."""
        width = max((len(r.name) for r in self.results), default=0)
        lines = [f"conformance of {self.base_url} to the trainer callback contract"]
        for result in self.results:
            mark = result.mark
            lines.append(
                f"  {mark}  {result.name.ljust(width)}  {result.description} "
                f"({result.requests} requests)"
            )
            if not result.requests and not result.failures:
                lines.append("          - no request was made: nothing was checked")
            # Defects first: they are what must be fixed whatever the contract says.
            order = sorted(range(len(result.failures)), key=lambda i: KINDS.index(result.kinds[i]))
            for index in order[:_MAX_SHOWN]:
                failure, kind = result.failures[index], result.kinds[index]
                first, *rest = failure.splitlines() or [""]
                lines.append(f"          - [{kind}] {first}")
                lines.extend(f"            {line}" for line in rest[:6])
            if len(result.failures) > _MAX_SHOWN:
                lines.append(f"          ... and {len(result.failures) - _MAX_SHOWN} more")
        themes = self.themes()
        if themes:
            lines.append("most frequent findings (what to change):")
            for kind, theme, count in themes[:_MAX_THEMES]:
                lines.append(f"  {count:5d} x [{kind}] {theme}")
        passed = sum(r.ok for r in self.results)
        lines.append(
            f"{self.count(DEFECT)} defect(s) (5xx, lost updates: fix them), "
            f"{self.count(DIFFERENCE)} contract difference(s) (works, but not as the contract "
            f"says), {self.count(NOT_CHECKED)} not checked"
        )
        lines.append(
            f"{'PASS' if self.ok else 'FAIL'}: {passed} of {len(self.results)} checks passed"
        )
        return "\n".join(lines)
