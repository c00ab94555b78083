"""Lint files: parse, analyse once, run the enabled rules, drop what `# noqa` silences."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from trainer_tools.trainer_lint.analysis import Analysis
from trainer_tools.trainer_lint.config import Settings
from trainer_tools.trainer_lint.contract import facts
from trainer_tools.trainer_lint.finding import Finding
from trainer_tools.trainer_lint.modules import sibling_modules
from trainer_tools.trainer_lint.noqa import ALL, noqa_lines
from trainer_tools.trainer_lint.rules import registry
from trainer_tools.trainer_lint.source import SourceFile, TrainerSyntaxError

__all__ = ["FileResult", "collect_files", "lint_file", "lint_source"]

ENTRY_FILE = "train.py"
# Folders that never hold a trainer's own code.
_SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".venv",
        "venv",
        "__pycache__",
        "node_modules",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        "build",
        "dist",
        "site-packages",
        ".tox",
        ".nox",
    }
)


@dataclass
class FileResult:
    """The findings of one file, or the syntax error that stopped it."""

    path: str
    findings: list[Finding] = field(default_factory=list)
    error: TrainerSyntaxError | None = None


def lint_source(
    text: str,
    path: str = ENTRY_FILE,
    *,
    enabled: Iterable[str] | None = None,
    entry: bool = True,
) -> list[Finding]:
    """Findings of one source text, sorted by position. Raises `TrainerSyntaxError`.

    `entry` says the file is a trainer's entry point: lifecycle rules (report calls, close,
    exit codes) only make sense there, while the others apply to any module.
    """
    return _lint(SourceFile.parse(text, path), enabled=enabled, entry=entry, siblings=())


def _lint(
    source: SourceFile,
    *,
    enabled: Iterable[str] | None,
    entry: bool,
    siblings: Sequence[tuple[str, SourceFile]],
) -> list[Finding]:
    analysis = Analysis(source, facts(), siblings if entry else ())
    codes = set(enabled) if enabled is not None else None
    silenced = {source.path: noqa_lines(source.text)}
    silenced |= {s.path: noqa_lines(s.text) for _, s in siblings}
    found: list[Finding] = []
    for code, rule in registry().items():
        if codes is not None and code not in codes:
            continue
        if rule.lifecycle and not entry:
            continue
        for finding in rule.check(analysis):
            marks = silenced.get(finding.path, {}).get(finding.line)
            if marks is not None and (ALL in marks or finding.code in marks):
                continue
            found.append(finding)
    return sorted(set(found))


def _is_entry(path: Path, text: str, explicit: bool) -> bool:
    """Named on the command line, named train.py, or importing the SDK: an entry point."""
    if explicit or path.name == ENTRY_FILE:
        return True
    module = facts().sdk_module
    return f"import {module}" in text or f"from {module} " in text


def lint_file(
    path: Path, settings: Settings, *, explicit: bool, display: str | None = None
) -> FileResult:
    """Lint one file with the run's settings."""
    shown = display or path.as_posix()
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return FileResult(
            shown, error=TrainerSyntaxError(shown, 1, 1, f"not UTF-8 text ({exc.reason})")
        )
    all_codes = list(registry())
    enabled = settings.enabled(all_codes) - settings.ignored_for(shown, all_codes)
    entry = _is_entry(path, text, explicit)
    try:
        source = SourceFile.parse(text, shown)
        skip = frozenset({facts().sdk_module})
        siblings = sibling_modules(path, source.tree, shown, skip) if entry else []
        findings = _lint(source, enabled=enabled, entry=entry, siblings=siblings)
    except TrainerSyntaxError as exc:
        return FileResult(shown, error=exc)
    except (RecursionError, MemoryError) as exc:
        # A pathological file (thousands of nested calls) must not take the whole run down.
        message = f"{type(exc).__name__} while analysing the file; it was not linted"
        return FileResult(shown, error=TrainerSyntaxError(shown, 1, 1, message, "internal error"))
    return FileResult(shown, findings)


def collect_files(paths: Iterable[Path], settings: Settings) -> Iterator[tuple[Path, bool]]:
    """(file, named explicitly) for each path; folders are walked for `*.py` in sorted order."""
    seen: set[Path] = set()
    for path in paths:
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(
                    d for d in dirs if d not in _SKIP_DIRS and not settings.excluded(Path(root, d))
                )
                for name in sorted(files):
                    candidate = Path(root, name)
                    wanted = name.endswith(".py") and not settings.excluded(candidate)
                    if wanted and candidate not in seen:
                        seen.add(candidate)
                        yield candidate, False
        elif path not in seen:
            seen.add(path)
            yield path, True
