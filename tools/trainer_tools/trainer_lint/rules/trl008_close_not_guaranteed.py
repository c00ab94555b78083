"""TRL008 close-not-guaranteed.

How it is checked: the SDK counts as closed when it is created (or wrapped in
`contextlib.closing`) as a `with` context manager, when a reached `close()` call sits in a
`finally` clause, when `atexit.register(sdk.close)` appears in the file, or when the program runs
through the SDK's `run(main)`, which closes it. The finding points at
a `close()` outside `finally`, or at the SDK's construction when `close()` is never called.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from trainer_tools.trainer_lint.analysis import Analysis
from trainer_tools.trainer_lint.finding import Finding

CODE = "TRL008"


def _registered_at_exit(analysis: Analysis) -> bool:
    close = analysis.facts.close
    for node in analysis.of(ast.Call):
        if analysis.call_name(node) == "atexit.register":
            for arg in node.args:
                if (
                    isinstance(arg, ast.Attribute)
                    and arg.attr == close
                    and analysis.symbols.is_sdk_receiver(arg.value)
                ):
                    return True
    return False


def check(analysis: Analysis) -> Iterator[Finding]:
    """Report an SDK that is not closed on every path."""
    facts = analysis.facts
    anchor = analysis.lifecycle_anchor()
    if anchor is None or analysis.trace.with_managed or analysis.trace.uses_runner:
        return  # a with block or run(main) closes the SDK
    closes = analysis.method_events(facts.close)
    if any(e.within("finally") for e in closes) or _registered_at_exit(analysis):
        return
    if closes:
        yield analysis.finding(
            CODE,
            closes[0].node,
            f"{facts.close}() is skipped when training raises: move it into a `finally:` clause "
            "(or use `with TrainerSDK() as sdk:`)",
        )
        return
    yield analysis.finding(
        CODE,
        anchor,
        f"sdk.{facts.close}() is never called: call it in a `finally:` clause, or use "
        "`with TrainerSDK() as sdk:`",
    )
