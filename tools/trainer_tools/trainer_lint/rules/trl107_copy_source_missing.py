"""TRL107 copy-source-missing.

How it is checked: the sources of every `COPY` and `ADD` of every stage that read the build
context (no `--from`, not a URL, no heredoc, no unresolved variable). A source that leaves the
context (`../x`) is reported always; with a known context (the Dockerfile's folder, when
trainer-lint reads a Dockerfile from disk) a source must exist there, a wildcard must match a
path, and a path matched by the context's `.dockerignore` counts as missing. The words after a
`#` (TRL106) are left to that rule. The single-file SDK (`trainer_sdk.py`) is not checked: it is a
build output copied in just before `docker build` (`trainer-sdk bundle`), and TRL102 checks that
the image gets it.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Iterator
from pathlib import Path

from trainer_tools.trainer_lint.dockerfile.analysis import DockerfileAnalysis
from trainer_tools.trainer_lint.dockerfile.words import split_words
from trainer_tools.trainer_lint.finding import Finding

CODE = "TRL107"

_URL = re.compile(r"^[a-z][a-z0-9+.-]*://|^git@")
_WILDCARD = re.compile(r"[*?\[]")


def _ignored(context: Path) -> list[tuple[str, bool]]:
    """(pattern, negated) of the context's `.dockerignore` (comments and blanks skipped)."""
    path = context / ".dockerignore"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    patterns = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = posixpath.normpath(line.lstrip("!").strip().lstrip("/"))
        patterns.append((pattern, negated))
    return patterns


def _excluded(relative: str, patterns: list[tuple[str, bool]]) -> bool:
    excluded = False
    for pattern, negated in patterns:
        parts = relative.split("/")
        # A pattern excludes the path itself or a folder above it.
        hit = any(
            fnmatch.fnmatchcase("/".join(parts[: depth + 1]), pattern)
            for depth in range(len(parts))
        )
        if hit:
            excluded = not negated
    return excluded


def _missing(source: str, context: Path, patterns: list[tuple[str, bool]]) -> str | None:
    """Why `source` gives nothing from `context`, or None when it gives something."""
    relative = posixpath.normpath(source.lstrip("/")) if source.strip("/") else "."
    if _WILDCARD.search(relative):
        found = [
            p.relative_to(context).as_posix()
            for p in context.glob(relative)
            if not _excluded(p.relative_to(context).as_posix(), patterns)
        ]
        return None if found else "matches nothing in the build context"
    if relative != "." and not (context / relative).exists():
        return "is not in the build context"
    if relative != "." and _excluded(relative, patterns):
        return "is excluded by the build context's .dockerignore"
    return None


def check(analysis: DockerfileAnalysis) -> Iterator[Finding]:
    """Report sources a build would not find."""
    context = analysis.context
    patterns = _ignored(context) if context is not None else []
    for instruction in analysis.dockerfile.instructions:
        if instruction.keyword not in ("COPY", "ADD") or "from" in instruction.flags:
            continue
        words = (
            list(instruction.exec_form)
            if instruction.exec_form is not None
            else split_words(re.split(r"\s#", instruction.arguments, maxsplit=1)[0])
        )
        words = [w for w in words if not w.startswith("<<")]
        if len(words) < 2:
            continue
        for source in words[:-1]:
            if "$" in source or _URL.match(source):
                continue
            if posixpath.basename(source) == analysis.facts.sdk_bundle:
                continue  # the bundle is copied in before the build, see the docstring
            normal = posixpath.normpath(source.lstrip("/")) if source.strip("/") else "."
            if normal == ".." or normal.startswith("../"):
                why = "is outside the build context (Docker never sends files above it)"
            elif context is None:
                continue
            else:
                found = _missing(source, context, patterns)
                if found is None:
                    continue
                why = found
            yield analysis.finding(
                CODE,
                instruction,
                f"{instruction.keyword} source `{source}` {why}: `docker build` stops here; "
                f"put the file in the build context or remove it from the {instruction.keyword}",
                instruction.locate(
                    re.compile(r"(?<![\w./-])" + re.escape(source) + r"(?![\w./-])")
                ),
            )
