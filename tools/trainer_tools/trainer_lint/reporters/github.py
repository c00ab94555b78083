"""GitHub Actions workflow commands: `::error file=...,line=...::message` per finding."""

from __future__ import annotations

from trainer_tools.trainer_lint.reporters.report import Report

__all__ = ["render"]


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def render(report: Report) -> str:
    """One annotation command per finding and per unparsable file."""
    lines: list[str] = []
    for f in report.findings:
        rule = report.rules[f.code]
        level = {"error": "error", "hint": "notice"}.get(rule.severity, "warning")
        props = ",".join(
            [
                f"file={_property(f.path)}",
                f"line={f.line}",
                f"col={f.column}",
                f"endLine={f.end_line}",
                f"endColumn={f.end_column}",
                f"title={_property(f'{f.code} {rule.name}')}",
            ]
        )
        lines.append(f"::{level} {props}::{_data(f'{f.code} {f.message}')}")
    for e in report.errors:
        props = f"file={_property(e.path)},line={e.line},col={e.column},title={_property(e.kind)}"
        lines.append(f"::error {props}::{_data(e.message)}")
    return "\n".join(lines) + ("\n" if lines else "")
