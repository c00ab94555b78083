"""TRL017 hard-coded-scratch-path.

How it is checked: string literals, and the literal start of f-strings, that equal or start with
the default of a scratch-directory variable (`TMP_DIR`, `WORK_DIR`; their defaults come from
`trainer_contract.env`). The default argument of `os.getenv(...)` / `os.environ.get(...)` is the
recommended way to name them and is not reported; neither are docstrings.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping

from trainer_tools.trainer_lint.analysis import Analysis
from trainer_tools.trainer_lint.contract import ContractFacts, per_facts
from trainer_tools.trainer_lint.finding import Finding

CODE = "TRL017"


@per_facts
def _prefixes(facts: ContractFacts) -> tuple[str, ...]:
    """What `_scratch` accepts beyond the defaults themselves, as one `startswith` argument."""
    return tuple(default.rstrip("/") + "/" for default in facts.scratch_dirs)


def _allowed(analysis: Analysis, candidates: list[tuple[ast.AST, str]]) -> set[int]:
    """ids of the candidates that must not be reported: reader defaults, docstrings, the parts
    of an f-string (the f-string is reported as a whole)."""
    wanted = {id(node) for node, _ in candidates}
    allowed: set[int] = set()
    for call in analysis.env_reads:
        defaults = [*call.args[1:], *(k.value for k in call.keywords if k.arg == "default")]
        for value in defaults:
            allowed |= {id(n) for n in ast.walk(value)} & wanted
    if allowed == wanted:
        return allowed  # the usual case: every candidate is a reader's default
    holders: list[ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef] = [
        *analysis.of(ast.Module),
        *analysis.of(ast.FunctionDef),
        *analysis.of(ast.AsyncFunctionDef),
        *analysis.of(ast.ClassDef),
    ]
    for holder in holders:
        first = holder.body[0] if holder.body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
            allowed.add(id(first.value))
    for joined in analysis.of(ast.JoinedStr):
        # Only the f-string's leading text counts, reported once for the whole f-string.
        allowed.update(id(part) for part in joined.values if id(part) in wanted)
    return allowed


def _scratch(text: str, dirs: Mapping[str, str]) -> tuple[str, str] | None:
    for default, var in dirs.items():
        if text == default or text.startswith(default.rstrip("/") + "/"):
            return default, var
    return None


def check(analysis: Analysis) -> Iterator[Finding]:
    """Report hard-coded scratch paths."""
    dirs = analysis.facts.scratch_dirs
    # Every candidate holds a default (less its trailing slash): one search of the joined
    # strings rules most files out.
    text = analysis.strings_text
    if not any(default.rstrip("/") in text for default in dirs):
        return
    prefixes = _prefixes(analysis.facts)  # what `_scratch` accepts, one C-level test a string
    candidates: list[tuple[ast.AST, str]] = []
    for constant, value in analysis.strings:
        if value in dirs or value.startswith(prefixes):
            candidates.append((constant, value))
    for joined in analysis.of(ast.JoinedStr):
        head = joined.values[0] if joined.values else None
        if isinstance(head, ast.Constant) and isinstance(head.value, str):
            start = head.value
            if start in dirs or start.startswith(prefixes):
                candidates.append((joined, start))
    if not candidates:
        return
    allowed = _allowed(analysis, candidates)
    for node, text in candidates:
        if id(node) in allowed:
            continue
        match = _scratch(text, dirs)
        assert match is not None  # candidates were chosen by it
        default, var = match
        yield analysis.finding(
            CODE,
            node,
            f"hard-coded path '{text}': read the directory from {var} "
            f"(`os.getenv('{var}', '{default}')`) and join to it",
        )
