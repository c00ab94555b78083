"""TRL001 sdk-not-constructed.

How it is checked: looks for a call that creates the SDK anywhere in the file: the SDK class under
any import alias (`from trainer_sdk import TrainerSDK as S`, `trainer_sdk.TrainerSDK()`), or a
function of the same file that returns one (`sdk = get_sdk()`), or the SDK's `run(main)` with a
`main(sdk)` that takes the SDK it builds. The finding points at the SDK import, or at the top of
the file when there is none.
"""

from __future__ import annotations

from collections.abc import Iterator

from trainer_tools.trainer_lint.analysis import Analysis
from trainer_tools.trainer_lint.finding import Finding

CODE = "TRL001"


def check(analysis: Analysis) -> Iterator[Finding]:
    """Report a file that never creates the SDK."""
    symbols = analysis.symbols
    if analysis.constructs():
        return  # reached on the walk (also through the trainer's own modules)
    # Only a call named like the SDK class (`TrainerSDK()`, `S()`, `trainer_sdk.TrainerSDK()`)
    # can construct it, and only `run(main)` can build it for main.
    names = {*symbols.sdk_classes, analysis.facts.sdk_class}
    if any(symbols.is_sdk_construct(node) for node in analysis.index.calls_named(names)):
        return
    if any(entry.params() for _, entry in analysis.runner_calls):
        return
    facts = analysis.facts
    imports = analysis.symbols.sdk_imports
    anchor = imports[0] if imports else None
    hint = "" if imports else f" (`from {facts.sdk_module} import {facts.sdk_class}`)"
    yield analysis.finding(
        CODE,
        anchor,
        f"{facts.sdk_class} is never constructed: create it{hint} with "
        f"`sdk = {facts.sdk_class}()` at the start of main() and report through it",
    )
