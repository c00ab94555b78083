"""A JSON array of findings: code, name, severity, message, path, positions, fix and docs link."""

from __future__ import annotations

import json

from trainer_tools.trainer_lint.reporters.report import Report

__all__ = ["render"]


def render(report: Report) -> str:
    """The findings (and parse errors, with `code` null) as a JSON array."""
    items: list[dict[str, object]] = []
    for f in report.findings:
        rule = report.rules[f.code]
        items.append(
            {
                "code": f.code,
                "name": rule.name,
                "severity": rule.severity,
                "message": f.message,
                "path": f.path,
                "line": f.line,
                "column": f.column,
                "end_line": f.end_line,
                "end_column": f.end_column,
                "fix": rule.fix,
            }
        )
    for e in report.errors:
        items.append(
            {
                "code": None,
                "name": e.kind.replace(" ", "-"),
                "severity": "error",
                "message": f"{e.kind}: {e.message}",
                "path": e.path,
                "line": e.line,
                "column": e.column,
                "end_line": e.line,
                "end_column": e.column,
                "fix": "The file is not linted until it parses (UTF-8 Python, or a Dockerfile "
                "Docker can build).",
            }
        )
    return json.dumps(items, indent=2, ensure_ascii=False) + "\n"
