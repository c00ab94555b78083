"""TRL028 failure-exit-without-run.

How it is checked: in an entry point that does not hand itself to the SDK's `run(main)`, each
`report_failed` call inside an `except` handler, unless the file handles one of the SDK's delivery
errors (`x-lint-vocabulary.delivery_errors`) in an `except` clause of its own. A hint: it never
fails the run.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from trainer_tools.trainer_lint.analysis import Analysis
from trainer_tools.trainer_lint.finding import Finding

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


def check(analysis: Analysis) -> Iterator[Finding]:
    """Hint at failure reports whose process exits 1 when the backend is down."""
    facts = analysis.facts
    if any(analysis.symbols.runner_entry(call) for call in analysis.of(ast.Call)):
        return
    if any(_caught_names(h) & facts.delivery_errors for h in analysis.of(ast.ExceptHandler)):
        return
    for event in analysis.method_events(facts.failed):
        if not event.within("handler"):
            continue
        yield analysis.finding(
            CODE,
            event.node,
            f"when the backend cannot be reached, {facts.failed}() raises CallbackDeliveryError "
            "here and the process exits 1 with a traceback, not 2 (backend unreachable): let the "
            f"SDK run the entry point, `def main(sdk): ...` then `{facts.entry_runner}(main)` "
            "(it reports exceptions with report_exception and exits 0, 1 or 2), or catch "
            "CallbackDeliveryError and return 2",
        )
