"""TRL009 invalid-exit-code.

How it is checked: the literal integer given to `sys.exit`, `exit`, `quit`, `os._exit` or
`SystemExit`, and every literal integer returned by a function whose result is passed to one of
them (`sys.exit(main())`, or `code = main()` then `sys.exit(code)`) or to the SDK's
`run(main)`, must be an exit code of `trainer_contract.exit_codes`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from trainer_tools.trainer_lint.analysis import Analysis
from trainer_tools.trainer_lint.finding import Finding

CODE = "TRL009"


def literal_int(node: ast.expr | None) -> int | None:
    """The value of an integer literal (`3`, `-1`), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return None if isinstance(node.value, bool) else node.value
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub)
        and isinstance(node.operand, ast.Constant)
        and isinstance(node.operand.value, int)
        and not isinstance(node.operand.value, bool)
    ):
        return -node.operand.value
    return None


def _exit_arguments(analysis: Analysis) -> Iterator[ast.expr]:
    for call in analysis.exit_calls:
        if call.args:
            yield call.args[0]


def check(analysis: Analysis) -> Iterator[Finding]:
    """Report literal exit codes the platform does not know."""
    codes = analysis.facts.exit_codes
    allowed = ", ".join(f"{code} ({name})" for code, name in codes.items())
    arguments = list(_exit_arguments(analysis))
    for arg in arguments:
        value = literal_int(arg)
        if value is not None and value not in codes:
            yield analysis.finding(
                CODE, arg, f"exit code {value} is not a platform exit code: use {allowed}"
            )
    for name in sorted(analysis.exit_functions):
        info = analysis.symbols.function(name)
        assert info is not None  # _exit_functions keeps only functions of the file
        for node in analysis.index.returns_of(info.node):
            value = literal_int(node.value)
            if node.value is not None and value is not None and value not in codes:
                yield analysis.finding(
                    CODE,
                    node.value,
                    f"{name}() returns {value}, which becomes the exit code, and is not a "
                    f"platform exit code: use {allowed}",
                )
