"""TRL021 success-exit-after-failure.

How it is checked: for each except handler reached on the walked path that calls `report_failed`
(itself or through a function of the same file), the handler's own statements must not
`return` the success code (or `None`, `False`) from a function whose result becomes the exit code
(`sys.exit(main())`), and must not call an exit function or `SystemExit` with it (or with
nothing, which also exits 0).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from trainer_tools.trainer_lint.analysis import Analysis
from trainer_tools.trainer_lint.finding import Finding
from trainer_tools.trainer_lint.node_index import Function
from trainer_tools.trainer_lint.symbols import iter_local_nodes

CODE = "TRL021"


def _success_value(node: ast.expr | None, success: int) -> bool:
    if node is None:
        return True
    return isinstance(node, ast.Constant) and (
        node.value is None or (node.value == success and not isinstance(node.value, str))
    )


def _handler_function(analysis: Analysis, handler: ast.ExceptHandler) -> Function | None:
    scope = analysis.index.scope_of(handler)
    return scope if isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef) else None


def check(analysis: Analysis) -> Iterator[Finding]:
    """Report a failure handler that ends the run as a success."""
    facts = analysis.facts
    success, failure = facts.success_exit, facts.failure_exit
    handlers: dict[int, ast.ExceptHandler] = {}
    for event in analysis.method_events(facts.failed):
        for frame in event.frames:
            if frame.kind == "handler" and isinstance(frame.node, ast.ExceptHandler):
                handlers[id(frame.node)] = frame.node
    if not handlers:
        return
    exit_functions = analysis.exit_functions
    for handler in handlers.values():
        function = _handler_function(analysis, handler)
        returns_exit_code = function is not None and function.name in exit_functions
        for node in iter_local_nodes(handler.body):
            bad: ast.AST | None = None
            if (
                isinstance(node, ast.Return)
                and returns_exit_code
                and _success_value(node.value, success)
            ) or (
                isinstance(node, ast.Call)
                and (analysis.is_exit_call(node) or analysis.call_name(node) == "SystemExit")
                and _success_value(node.args[0] if node.args else None, success)
            ):
                bad = node
            if bad is not None:
                yield analysis.finding(
                    CODE,
                    bad,
                    f"the run ends with exit code {success} after {facts.failed}(): the platform "
                    f"reads that as success; use {failure}",
                )
