"""SARIF 2.1.0 (OASIS), the format code-scanning services ingest.

One run; the driver lists every enabled rule with its documentation, results point at
repository-relative URIs (`%SRCROOT%`), and files that do not parse are tool execution
notifications, so the log stays valid and says the run was incomplete.
"""

from __future__ import annotations

import json
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any
from urllib.parse import quote

from trainer_contract.lint_rules import LintRule
from trainer_tools.trainer_lint.reporters.report import Report

__all__ = ["SARIF_SCHEMA", "SARIF_VERSION", "render"]

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
INFORMATION_URI = "https://trainer-sdk.dev/docs/rules"
# Code-scanning tags by the kind of file a rule checks.
_TAGS = {"python": "trainer-lifecycle", "dockerfile": "trainer-image"}


def _level(rule: LintRule) -> str:
    return {"error": "error", "hint": "note"}.get(rule.severity, "warning")


def _uri(path: str) -> tuple[str, bool]:
    """(URI, relative?) of a displayed path."""
    posix = path.replace("\\", "/")
    if PurePosixPath(posix).is_absolute() or PureWindowsPath(path).is_absolute():
        return "file://" + quote(posix if posix.startswith("/") else "/" + posix), False
    return quote(posix), True


def _rule(rule: LintRule) -> dict[str, Any]:
    help_text = f"{rule.what}\n\nWhy: {rule.why}\n\nFix: {rule.fix}"
    help_markdown = (
        f"{rule.what}\n\n**Why:** {rule.why}\n\n**Example**\n\n```{rule.language}\n"
        f"{rule.example}```\n\n**Fix:** {rule.fix}\n\n```{rule.language}\n{rule.fix_example}```\n"
    )
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.what},
        "help": {"text": help_text, "markdown": help_markdown},
        "helpUri": f"{INFORMATION_URI}#{rule.code.lower()}",
        "defaultConfiguration": {"level": _level(rule)},
        "properties": {"tags": [_TAGS[rule.language], rule.contract.placement]},
    }


def _location(path: str, line: int, column: int, end_line: int, end_column: int) -> dict[str, Any]:
    uri, relative = _uri(path)
    artifact: dict[str, Any] = {"uri": uri}
    if relative:
        artifact["uriBaseId"] = "%SRCROOT%"
    region = {"startLine": line, "startColumn": column}
    if (end_line, end_column) > (line, column):
        region |= {"endLine": end_line, "endColumn": end_column}
    return {"physicalLocation": {"artifactLocation": artifact, "region": region}}


def render(report: Report) -> str:
    """The run as a SARIF 2.1.0 log."""
    codes = sorted(report.enabled | {f.code for f in report.findings})
    index = {code: i for i, code in enumerate(codes)}
    results = []
    for f in report.findings:
        rule = report.rules[f.code]
        results.append(
            {
                "ruleId": f.code,
                "ruleIndex": index[f.code],
                "level": _level(rule),
                "message": {"text": f.message},
                "locations": [_location(f.path, f.line, f.column, f.end_line, f.end_column)],
            }
        )
    notifications = [
        {
            "level": "error",
            "message": {"text": f"{e.kind}: {e.message}; the file was not linted"},
            "locations": [_location(e.path, e.line, e.column, e.line, e.column)],
        }
        for e in report.errors
    ]
    log = {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "trainer-lint",
                        "informationUri": INFORMATION_URI,
                        "version": report.version,
                        "rules": [_rule(report.rules[c]) for c in codes],
                    }
                },
                "invocations": [
                    {
                        "executionSuccessful": not report.errors,
                        "toolExecutionNotifications": notifications,
                    }
                ],
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
