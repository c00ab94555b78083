"""TRL017 hard-coded-scratch-path.

How it is checked: string literals, and the literal start of f-strings, that equal or start with
the default of a scratch-directory variable (`TMP_DIR`, `WORK_DIR`; their defaults come from
`trainer_contract.env`). The default argument of `os.getenv(...)` / `os.environ.get(...)` is the
recommended way to name them and is not reported; neither are docstrings.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from trainer_tools.trainer_lint.analysis import Analysis
from trainer_tools.trainer_lint.finding import Finding
from trainer_tools.trainer_lint.symbols import dotted_name, terminal_name

CODE = "TRL017"


def _allowed(analysis: Analysis) -> set[int]:
    """ids of string constants that must not be reported: reader defaults, docstrings."""
    readers = analysis.facts.path_default_readers
    allowed: set[int] = set()
    # A reader's call ends in the reader's last name (`getenv`, `get`): test that first.
    last_names = {r.rpartition(".")[2] for r in readers}
    for call in analysis.of(ast.Call):
        if terminal_name(call.func) not in last_names:
            continue
        name = dotted_name(call.func) or ""
        if any(name == r or name.endswith("." + r) for r in readers):
            defaults = [*call.args[1:], *(k.value for k in call.keywords if k.arg == "default")]
            for value in defaults:
                allowed |= {id(n) for n in ast.walk(value)}
    holders: list[ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef] = [
        *analysis.of(ast.Module),
        *analysis.of(ast.FunctionDef),
        *analysis.of(ast.AsyncFunctionDef),
        *analysis.of(ast.ClassDef),
    ]
    for holder in holders:
        body = holder.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            allowed.add(id(body[0].value))
    for joined in analysis.of(ast.JoinedStr):
        # Only the f-string's leading text counts, reported once for the whole f-string.
        allowed.update(map(id, joined.values))
    return allowed


def _scratch(text: str, dirs: dict[str, str]) -> tuple[str, str] | None:
    for default, var in dirs.items():
        if text == default or text.startswith(default.rstrip("/") + "/"):
            return default, var
    return None


def check(analysis: Analysis) -> Iterator[Finding]:
    """Report hard-coded scratch paths."""
    dirs = dict(analysis.facts.scratch_dirs)
    # What `_scratch` accepts, as one C-level test per string (most strings are not paths).
    prefixes = tuple(default.rstrip("/") + "/" for default in dirs)
    candidates: list[tuple[ast.AST, str]] = []
    for constant, value in analysis.strings:
        if value in dirs or value.startswith(prefixes):
            candidates.append((constant, value))
    for joined in analysis.of(ast.JoinedStr):
        head = joined.values[0] if joined.values else None
        if (
            isinstance(head, ast.Constant)
            and isinstance(head.value, str)
            and _scratch(head.value, dirs)
        ):
            candidates.append((joined, head.value))
    if not candidates:
        return
    allowed = _allowed(analysis)
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
