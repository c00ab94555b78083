"""TRL010 exit-code-discarded.

How it is checked: inside `if __name__ == "__main__":`, a call to a function of the same file that
returns a value must be passed to an exit call: directly (`sys.exit(main())`) or through a variable
that reaches one (`code = main()` ... `sys.exit(code)`). The finding points at the call whose
result is lost.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from trainer_tools.trainer_lint.analysis import Analysis
from trainer_tools.trainer_lint.finding import Finding
from trainer_tools.trainer_lint.symbols import iter_local_nodes

CODE = "TRL010"


def _is_main_guard(node: ast.stmt) -> bool:
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return False
    test = node.test
    parts = [test.left, *test.comparators]
    names = [p.id for p in parts if isinstance(p, ast.Name)]
    texts = [p.value for p in parts if isinstance(p, ast.Constant)]
    return names == ["__name__"] and texts == ["__main__"] and isinstance(test.ops[0], ast.Eq)


def _returns_value(analysis: Analysis, name: str) -> bool:
    info = analysis.symbols.function(name)
    if info is None:
        return False
    return any(
        n.value is not None and not (isinstance(n.value, ast.Constant) and n.value.value is None)
        for n in analysis.index.returns_of(info.node)
    )


def check(analysis: Analysis) -> Iterator[Finding]:
    """Report an entry point that drops main()'s exit code."""
    for guard in analysis.source.tree.body:
        if not isinstance(guard, ast.If) or not _is_main_guard(guard):
            continue
        nodes = list(iter_local_nodes(guard.body))
        exits = [n for n in nodes if isinstance(n, ast.Call) and analysis.is_exit_call(n)]
        exits += [
            n.exc
            for n in nodes
            if isinstance(n, ast.Raise)
            and isinstance(n.exc, ast.Call)
            and analysis.call_name(n.exc) == "SystemExit"
        ]
        exit_args = {arg.id for call in exits for arg in call.args if isinstance(arg, ast.Name)}
        for node in nodes:
            call: ast.Call | None = None
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
                call = node.value
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
                targets = {t.id for t in node.targets if isinstance(t, ast.Name)}
                if targets & exit_args:
                    continue
                call = node.value
            if call is None or not isinstance(call.func, ast.Name):
                continue
            if _returns_value(analysis, call.func.id):
                name = call.func.id
                yield analysis.finding(
                    CODE,
                    call,
                    f"the exit code returned by {name}() is discarded, so the process exits 0 "
                    f"even when training failed: write `sys.exit({name}())`",
                )
