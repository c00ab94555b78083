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
from trainer_tools.trainer_lint.symbols import dotted_name

CODE = "TRL017"


def _allowed(analysis: Analysis) -> set[int]:
    """ids of string constants that must not be reported: reader defaults, docstrings."""
    readers = analysis.facts.path_default_readers
    allowed: set[int] = set()
    for node in analysis.nodes:
        if isinstance(node, ast.Call):
            name = dotted_name(node.func) or ""
            if any(name == r or name.endswith("." + r) for r in readers):
                defaults = [*node.args[1:], *(k.value for k in node.keywords if k.arg == "default")]
                for value in defaults:
                    allowed |= {id(n) for n in ast.walk(value)}
        elif isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                allowed.add(id(body[0].value))
        elif isinstance(node, ast.JoinedStr):
            # Only the f-string's leading text counts, reported once for the whole f-string.
            allowed |= {id(v) for v in node.values}
    return allowed


def _scratch(text: str, dirs: dict[str, str]) -> tuple[str, str] | None:
    for default, var in dirs.items():
        if text == default or text.startswith(default.rstrip("/") + "/"):
            return default, var
    return None


def check(analysis: Analysis) -> Iterator[Finding]:
    """Report hard-coded scratch paths."""
    dirs = dict(analysis.facts.scratch_dirs)
    allowed = _allowed(analysis)
    for node in analysis.nodes:
        if id(node) in allowed:
            continue
        text: str | None = None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        elif isinstance(node, ast.JoinedStr) and node.values:
            head = node.values[0]
            if isinstance(head, ast.Constant) and isinstance(head.value, str):
                text = head.value
        if text is None:
            continue
        match = _scratch(text, dirs)
        if match is None:
            continue
        default, var = match
        yield analysis.finding(
            CODE,
            node,
            f"hard-coded path '{text}': read the directory from {var} "
            f"(`os.getenv('{var}', '{default}')`) and join to it",
        )
