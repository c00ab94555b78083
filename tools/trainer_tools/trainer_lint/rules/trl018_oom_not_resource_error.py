"""TRL018 oom-not-resource-error.

How it is checked: `report_failed` calls inside an except handler of an out-of-memory exception
(its class name is one of the lint vocabulary's `oom_exceptions`, e.g. `torch.cuda.OutOfMemoryError`)
or inside an `if` whose test mentions an out-of-memory message (`'out of memory' in str(exc)`)
must pass the vocabulary's `oom_error_type` member (`ErrorType.RESOURCE_ERROR`, or its wire value).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from trainer_tools.trainer_lint.analysis import Analysis
from trainer_tools.trainer_lint.finding import Finding
from trainer_tools.trainer_lint.node_index import child_nodes
from trainer_tools.trainer_lint.symbols import iter_local_nodes, terminal_name

CODE = "TRL018"


def _oom_blocks(analysis: Analysis) -> Iterator[list[ast.stmt]]:
    facts = analysis.facts
    for handler in analysis.of(ast.ExceptHandler):
        if handler.type is not None:
            types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
            if any(terminal_name(t) in facts.oom_exceptions for t in types):
                yield handler.body
    # The strings that mention an out-of-memory message (usually none, or one or two): one
    # search of the joined strings tells whether any does.
    messages = facts.oom_messages
    lowered = analysis.strings_text.lower()
    if not any(m in lowered for m in messages):
        return
    wanted = {id(c) for c, text in analysis.strings if any(m in text.lower() for m in messages)}
    if not wanted:
        return  # no out-of-memory message anywhere: no `if` can test for one
    for node in analysis.of(ast.If):
        stack: list[ast.AST] = [node.test]
        while stack:
            part = stack.pop()
            if id(part) in wanted:
                yield node.body
                break
            stack += child_nodes(part)


def check(analysis: Analysis) -> Iterator[Finding]:
    """Report OOM failures filed under another error type."""
    facts = analysis.facts
    wanted = facts.oom_error_type
    seen: set[int] = set()
    for block in _oom_blocks(analysis):
        for node in iter_local_nodes(block):
            if not isinstance(node, ast.Call) or id(node) in seen:
                continue
            if analysis.symbols.sdk_method(node) != facts.failed:
                continue
            seen.add(id(node))
            arg = node.args[0] if node.args else None
            for keyword in node.keywords:
                if keyword.arg == "error_type":
                    arg = keyword.value
            if arg is None:
                continue
            member = analysis.error_type_member(arg)
            given: str | None = None
            if member is not None:
                canonical = facts.error_aliases.get(member, member)
                if canonical in facts.error_values and canonical != wanted:
                    given = f"ErrorType.{member}"
            elif (
                isinstance(arg, ast.Constant)
                and isinstance(arg.value, str)
                and arg.value not in (facts.error_values.get(wanted), wanted)
            ):
                given = repr(arg.value)
            if given is not None:
                yield analysis.finding(
                    CODE,
                    arg,
                    f"out-of-memory failure reported as {given}: use ErrorType.{wanted}, "
                    "which the platform answers with smaller-batch / bigger-GPU advice",
                )
