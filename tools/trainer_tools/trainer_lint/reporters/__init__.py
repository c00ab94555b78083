"""Output formats: `text` for people, `json` for tools, `sarif` for code scanning, `github` for
Actions annotations. Each module defines `render(report) -> str`."""

from __future__ import annotations

from collections.abc import Callable

from trainer_tools.trainer_lint.reporters import github, sarif, text
from trainer_tools.trainer_lint.reporters import json as json_format
from trainer_tools.trainer_lint.reporters.report import Report

__all__ = ["FORMATS", "Report"]

FORMATS: dict[str, Callable[[Report], str]] = {
    "text": text.render,
    "json": json_format.render,
    "sarif": sarif.render,
    "github": github.render,
}
