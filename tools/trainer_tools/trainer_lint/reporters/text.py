"""`path:line:col: CODE message`, one finding a line, then a summary."""

from __future__ import annotations

from trainer_tools.trainer_lint.reporters.report import Report

__all__ = ["render"]


def render(report: Report) -> str:
    """The findings as text, with a closing summary line."""
    lines = [f"{f.path}:{f.line}:{f.column}: {f.code} {f.message}" for f in report.findings]
    lines += [str(e) for e in report.errors]
    count = len(report.findings)
    files = len({f.path for f in report.findings})
    if count:
        lines.append(
            f"Found {count} problem{'s' * (count != 1)} in {files} file{'s' * (files != 1)}."
        )
    elif not report.errors:
        lines.append(
            f"All checks passed ({len(report.results)} file{'s' * (len(report.results) != 1)})."
        )
    return "\n".join(lines) + "\n"
