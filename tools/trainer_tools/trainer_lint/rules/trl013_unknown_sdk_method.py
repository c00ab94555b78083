"""TRL013 unknown-sdk-method.

How it is checked: every method called on an SDK object (an object created from the SDK class or
a factory, its aliases, `self.sdk`-style attributes, parameters that receive it, and variables
conventionally named `sdk`/`*_sdk`) must be a key of `trainer_contract.sdk_api.SDK_METHODS`.
Dunder methods are left alone.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from trainer_tools.trainer_lint.analysis import Analysis
from trainer_tools.trainer_lint.finding import Finding

CODE = "TRL013"


def check(analysis: Analysis) -> Iterator[Finding]:
    """Report calls of methods the SDK does not have."""
    methods = analysis.facts.methods
    for call, method in analysis.sdk_calls:
        if method in methods:
            continue
        close = difflib.get_close_matches(method, list(methods), n=1, cutoff=0.6)
        hint = f"did you mean `{close[0]}`?" if close else "see the SDK reference for its methods"
        yield analysis.finding(CODE, call, f"the SDK has no method `{method}`: {hint}")
