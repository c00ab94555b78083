"""TRL014 sdk-call-signature.

How it is checked: binds the arguments of each SDK call to the parameters of the method in
`trainer_contract.sdk_api.SDK_METHODS` (positional order included): a keyword that is no
parameter (unless the method takes extra keyword arguments, `var_keyword`), more positional
arguments than parameters, a parameter given twice, or a required parameter not given (only
checked when the call has no `*args`/`**kwargs`).
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Iterator

from trainer_tools.trainer_lint.analysis import Analysis
from trainer_tools.trainer_lint.contract import ContractFacts, per_facts
from trainer_tools.trainer_lint.finding import Finding

CODE = "TRL014"


@per_facts
def _signature(facts: ContractFacts, method: str) -> tuple[tuple[str, ...], str]:
    """A method's parameter names and its signature as messages show it (once per run)."""
    names = tuple(p.name for p in facts.methods[method].params)
    return names, f"{method}({', '.join(names)})"


def check(analysis: Analysis) -> Iterator[Finding]:
    """Report SDK calls whose arguments do not fit the method."""
    for call, method in analysis.sdk_calls:
        spec = analysis.facts.methods.get(method)
        if spec is None:
            continue
        names, signature = _signature(analysis.facts, method)
        positional = []
        for arg in call.args:
            if isinstance(arg, ast.Starred):
                break
            positional.append(arg)
        starred = len(positional) != len(call.args) or any(k.arg is None for k in call.keywords)
        if len(positional) > len(names):
            yield analysis.finding(
                CODE,
                positional[len(names)],
                f"{method}() takes at most {len(names)} positional argument(s), "
                f"{len(positional)} given: {signature}",
            )
        given = set(names[: len(positional)])
        unknown = False
        for keyword in call.keywords:
            if keyword.arg is None:
                continue
            if keyword.arg not in names and spec.var_keyword is None:
                unknown = True
                close = difflib.get_close_matches(keyword.arg, names, n=1, cutoff=0.6)
                hint = f"did you mean `{close[0]}=`?" if close else f"parameters: {signature}"
                yield analysis.finding(
                    CODE, keyword, f"{method}() has no parameter `{keyword.arg}`: {hint}"
                )
            elif keyword.arg in given:
                yield analysis.finding(
                    CODE,
                    keyword,
                    f"{method}() gets `{keyword.arg}` twice (positionally and by keyword): "
                    f"{signature}",
                )
            given.add(keyword.arg)
        if starred or unknown:
            continue  # a misspelt keyword already explains the parameter it leaves out
        missing = [p.name for p in spec.params if p.required and p.name not in given]
        if missing:
            yield analysis.finding(
                CODE,
                call,
                f"{method}() is missing required argument(s) {', '.join(missing)}: {signature}",
            )
