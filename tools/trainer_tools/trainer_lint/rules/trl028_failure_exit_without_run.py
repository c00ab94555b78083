"""TRL028 failure-exit-without-run.

How it is checked: in an entry point that does not hand itself to the SDK's `run(main)`, each
`report_failed` call inside an `except` handler, unless the path the entry point takes to it runs
inside a `try` whose handlers catch one of the SDK's delivery errors
(`x-lint-vocabulary.delivery_errors`), such as
`try: sys.exit(main())` / `except CallbackDeliveryError: sys.exit(2)` around the entry call. A
handler of the same `try` whose handler reports the failure does not count: an exception raised in
one handler is never caught by its siblings.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from trainer_tools.trainer_lint.analysis import Analysis
from trainer_tools.trainer_lint.finding import Finding
from trainer_tools.trainer_lint.trace import Event

CODE = "TRL028"


def _caught_names(handler: ast.ExceptHandler) -> set[str]:
    kinds = handler.type
    if kinds is None:
        return set()
    elements = kinds.elts if isinstance(kinds, ast.Tuple) else [kinds]
    names = set()
    for element in elements:
        if isinstance(element, ast.Name):
            names.add(element.id)
        elif isinstance(element, ast.Attribute):
            names.add(element.attr)
    return names


def _covered(event: Event, delivery_errors: frozenset[str]) -> bool:
    """The report runs inside the body of a `try` that catches a delivery error."""
    for frame in event.frames:
        node = frame.node
        if frame.kind != "try" or not isinstance(node, ast.Try | ast.TryStar):
            continue
        if any(_caught_names(h) & delivery_errors for h in node.handlers):
            return True
    return False


def check(analysis: Analysis) -> Iterator[Finding]:
    """Flag failure reports whose process exits 1 when the backend is down."""
    facts = analysis.facts
    if analysis.runner_calls:
        return
    for event in analysis.method_events(facts.failed):
        if not event.within("handler") or _covered(event, facts.delivery_errors):
            continue
        yield analysis.finding(
            CODE,
            event.node,
            f"when the backend cannot be reached, {facts.failed}() raises CallbackDeliveryError "
            "here and the process exits 1 with a traceback, not 2 (backend unreachable): let the "
            f"SDK run the entry point, `def main(sdk): ...` then `{facts.entry_runner}(main)` "
            "(it reports exceptions with report_exception and exits 0, 1 or 2), or wrap the entry "
            "call: `try: sys.exit(main())` / `except CallbackDeliveryError: sys.exit(2)`",
        )
