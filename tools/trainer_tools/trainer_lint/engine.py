"""Lint files: parse, analyse once, run the enabled rules, drop what `# noqa` silences.

Python files get the Python rules; Dockerfiles (`Dockerfile`, `*.Dockerfile`, `Dockerfile.*`)
the Dockerfile rules. The `Dockerfile` beside a `train.py` is linted with it. A folder walk skips
a copied single-file SDK (`trainer_sdk.py` with the bundle's header), FIFOs, sockets and devices.
"""

from __future__ import annotations

import fnmatch
import os
import re
import stat
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from trainer_tools.bundle.render import is_bundle_header
from trainer_tools.trainer_lint.analysis import Analysis
from trainer_tools.trainer_lint.config import Settings
from trainer_tools.trainer_lint.contract import ContractFacts, facts, per_facts
from trainer_tools.trainer_lint.dockerfile.analysis import DockerfileAnalysis
from trainer_tools.trainer_lint.dockerfile.parser import parse_dockerfile
from trainer_tools.trainer_lint.finding import Finding
from trainer_tools.trainer_lint.modules import sibling_modules
from trainer_tools.trainer_lint.noqa import ALL, dockerfile_noqa_lines, noqa_lines
from trainer_tools.trainer_lint.reading import (
    SourceReadError,
    decode_dockerfile,
    decode_python,
    read_bytes,
)
from trainer_tools.trainer_lint.rules import registry, rules_for
from trainer_tools.trainer_lint.source import SourceFile, TrainerSyntaxError

__all__ = [
    "FileResult",
    "collect_files",
    "is_dockerfile",
    "lint_bytes",
    "lint_dockerfile_source",
    "lint_file",
    "lint_source",
]

ENTRY_FILE = facts().entry_script
DOCKERFILE = "Dockerfile"
"""The name Docker builds by default: the one looked for beside a train.py."""
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


def default_codes() -> set[str]:
    """What `enabled=None` means: every rule but the opt-in hints (see `Settings.enabled`)."""
    rules = facts().rules
    return {code for code in registry() if rules[code].severity != "hint"}


def is_dockerfile(path: Path | str) -> bool:
    """The file name is a Dockerfile's (`Dockerfile`, `*.Dockerfile`, `Dockerfile.*`), and not
    one of the files named after one (`Dockerfile.dockerignore`, `Dockerfile.md`)."""
    name = path.name if isinstance(path, Path) else Path(path).name
    excluded, named = _dockerfile_patterns(facts())
    return excluded.match(name) is None and named.match(name) is not None


@per_facts
def _dockerfile_patterns(known: ContractFacts) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The exclusions and the Dockerfile names as one regex each (`fnmatchcase` per pattern
    cost a compiled-pattern lookup each, for every file of a folder walk, twice)."""

    def either(patterns: tuple[str, ...]) -> re.Pattern[str]:
        return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns) or "(?!)")

    return either(known.dockerfile_name_exclusions), either(known.dockerfile_names)


def lint_source(
    text: str,
    path: str = ENTRY_FILE,
    *,
    enabled: Iterable[str] | None = None,
    entry: bool = True,
) -> list[Finding]:
    """Findings of one source text, sorted by position. Raises `TrainerSyntaxError`.

    A `path` named like a Dockerfile is linted as one (see `lint_dockerfile_source`). `entry`
    says a Python file is a trainer's entry point: lifecycle rules (report calls, close, exit
    codes) only make sense there, while the others apply to any module.
    """
    if is_dockerfile(path):
        return lint_dockerfile_source(text, path, enabled=enabled)
    return _lint(SourceFile.parse(text, path), enabled=enabled, entry=entry, siblings=())


def lint_dockerfile_source(
    text: str,
    path: str = DOCKERFILE,
    *,
    enabled: Iterable[str] | None = None,
    context: Path | None = None,
) -> list[Finding]:
    """Findings of one Dockerfile text, sorted by position. Raises `TrainerSyntaxError`
    (a `DockerfileSyntaxError`) when Docker could not build it as written.

    `context` is the build context whose requirements files an install may name (the
    Dockerfile's folder); without it, such files name nothing.
    """
    dockerfile = parse_dockerfile(text, path)
    analysis = DockerfileAnalysis(dockerfile, facts(), context)
    codes = set(enabled) if enabled is not None else default_codes()
    silenced = dockerfile_noqa_lines(dockerfile)
    found: list[Finding] = []
    for code, rule in rules_for("dockerfile").items():
        if codes is not None and code not in codes:
            continue
        for finding in rule.check(analysis):
            marks = silenced.get(finding.line)
            if marks is not None and (ALL in marks or finding.code in marks):
                continue
            found.append(finding)
    return sorted(set(found))


def _lint(
    source: SourceFile,
    *,
    enabled: Iterable[str] | None,
    entry: bool,
    siblings: Sequence[tuple[str, SourceFile]],
) -> list[Finding]:
    analysis = Analysis(source, facts(), siblings if entry else ())
    codes = set(enabled) if enabled is not None else default_codes()
    silenced = {source.path: noqa_lines(source.text)}
    silenced |= {s.path: noqa_lines(s.text) for _, s in siblings}
    found: list[Finding] = []
    for code, rule in rules_for("python").items():
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


# The codes a run's settings enable, for the last settings asked about (a run lints every file
# with one `Settings`, a frozen value: no need to resolve its selectors per file).
_ENABLED: tuple[Settings, frozenset[str]] | None = None


def _enabled_codes(settings: Settings) -> frozenset[str]:
    global _ENABLED
    known = _ENABLED
    if known is not None and known[0] is settings:
        return known[1]
    enabled = settings.enabled(list(registry()))
    _ENABLED = (settings, enabled)
    return enabled


def _is_entry(path: Path, text: str, explicit: bool) -> bool:
    """Named on the command line, named train.py, or importing the SDK: an entry point."""
    if explicit or path.name == ENTRY_FILE:
        return True
    module = facts().sdk_module
    return f"import {module}" in text or f"from {module} " in text


def lint_file(
    path: Path, settings: Settings, *, explicit: bool, display: str | None = None
) -> FileResult:
    """Lint one file with the run's settings (a file that cannot be read is an error result)."""
    shown = display or path.as_posix()
    try:
        data = read_bytes(path)
    except SourceReadError as exc:
        return FileResult(shown, error=TrainerSyntaxError(shown, 1, 1, str(exc), "read error"))
    return lint_bytes(data, path, settings, explicit=explicit, display=shown)


def lint_bytes(
    data: bytes,
    path: Path,
    settings: Settings,
    *,
    explicit: bool,
    display: str | None = None,
    context: Path | None = None,
) -> FileResult:
    """Lint the bytes of a file named `path` (it need not exist: standard input is linted as
    `--stdin-filename`); `context` is a Dockerfile's build context (default: its folder)."""
    shown = display or path.as_posix()
    dockerfile = is_dockerfile(path)
    try:
        text = decode_dockerfile(data) if dockerfile else decode_python(data)
    except SourceReadError as exc:
        error = TrainerSyntaxError(shown, exc.line, 1, str(exc), "read error")
        return FileResult(shown, error=error)
    enabled = _enabled_codes(settings)
    if settings.per_file_ignores:
        enabled -= settings.ignored_for(shown, list(registry()))
    if dockerfile:
        try:
            findings = lint_dockerfile_source(
                text,
                shown,
                enabled=enabled,
                context=context if context is not None else path.resolve().parent,
            )
        except TrainerSyntaxError as exc:
            return FileResult(shown, error=exc)
        except RecursionError:
            # Thousands of stages each built FROM the previous one: report, do not crash.
            message = "RecursionError while analysing the file; it was not linted"
            return FileResult(
                shown, error=TrainerSyntaxError(shown, 1, 1, message, "internal error")
            )
        return FileResult(shown, findings)
    entry = _is_entry(path, text, explicit)
    try:
        source = SourceFile.parse(text, shown)
        skip = frozenset({facts().sdk_module})
        siblings = sibling_modules(path, source.tree, shown, skip, source.index) if entry else []
        findings = _lint(source, enabled=enabled, entry=entry, siblings=siblings)
    except TrainerSyntaxError as exc:
        return FileResult(shown, error=exc)
    except (RecursionError, MemoryError) as exc:
        # A pathological file (thousands of nested calls) must not take the whole run down.
        message = f"{type(exc).__name__} while analysing the file; it was not linted"
        return FileResult(shown, error=TrainerSyntaxError(shown, 1, 1, message, "internal error"))
    return FileResult(shown, findings)


def is_sdk_bundle(path: Path) -> bool:
    """A copied single-file SDK (`trainer_sdk.py` whose first line is the bundle's header):
    generated code, not the trainer's, so a folder walk leaves it out."""
    if path.name != facts().sdk_bundle:
        return False
    try:
        with path.open("rb") as handle:
            first = handle.readline(512).decode("utf-8", "replace")
    except OSError:
        return False
    return is_bundle_header(first)


def _lintable(path: Path) -> bool:
    """A regular file (following links), or a dangling link (reported, not skipped); FIFOs,
    sockets and devices in a folder are not source files and are never opened."""
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except FileNotFoundError:
        return path.is_symlink()
    except OSError:
        return True  # unreadable: lint_file reports why


def collect_files(paths: Iterable[Path], settings: Settings) -> Iterator[tuple[Path, bool]]:
    """(file, named explicitly) for each path; folders are walked for `*.py` and Dockerfiles
    in sorted order, and the `Dockerfile` beside a `train.py` comes right after it."""
    seen: set[Path] = set()

    def beside(entry: Path) -> Iterator[tuple[Path, bool]]:
        if entry.name != ENTRY_FILE:
            return
        candidate = entry.parent / DOCKERFILE
        if candidate.is_file() and candidate not in seen and not settings.excluded(candidate):
            seen.add(candidate)
            yield candidate, False

    for path in paths:
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                folder = Path(root)  # once per folder: `folder / name` parses only the name
                dirs[:] = sorted(
                    d for d in dirs if d not in _SKIP_DIRS and not settings.excluded(folder / d)
                )
                for name in sorted(files):
                    candidate = folder / name
                    wanted = (
                        (name.endswith(".py") or is_dockerfile(name))
                        and not settings.excluded(candidate)
                        and _lintable(candidate)
                        and not is_sdk_bundle(candidate)
                    )
                    if wanted and candidate not in seen:
                        seen.add(candidate)
                        yield candidate, False
                        yield from beside(candidate)
        elif path not in seen:
            seen.add(path)
            yield path, True
            if path != Path("-"):
                yield from beside(path)
