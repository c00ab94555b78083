"""TRL026 unknown-config-key.

How it is checked: names bound to the result of the SDK's `get_basic_config()` (and the call
itself), then every `name["key"]`, `name.get("key")` and `"key" in name` with a string literal
key: the key must be one of `trainer_contract.config.BASIC_CONFIG_KEYS`. A key the config
schema lists as a synonym (`x-synonyms`: `learning_rate` for `lr0`) names the right key;
otherwise the closest key is suggested.
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Iterator

from trainer_tools.trainer_lint.analysis import Analysis
from trainer_tools.trainer_lint.finding import Finding

CODE = "TRL026"


def _config_names(analysis: Analysis) -> tuple[set[str], set[int]]:
    """Names assigned from get_basic_config(), and the ids of those call nodes."""
    method = analysis.facts.basic_config_method
    calls = {id(call) for call, name in analysis.sdk_calls if name == method}
    names: set[str] = set()
    for node in analysis.of(ast.Assign):
        if id(node.value) in calls:
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    for annotated in analysis.of(ast.AnnAssign):
        if (
            annotated.value is not None
            and id(annotated.value) in calls
            and isinstance(annotated.target, ast.Name)
        ):
            names.add(annotated.target.id)
    return names, calls


def _is_config(node: ast.expr, names: set[str], calls: set[int]) -> bool:
    return (isinstance(node, ast.Name) and node.id in names) or id(node) in calls


def _keys(analysis: Analysis) -> Iterator[ast.Constant]:
    names, calls = _config_names(analysis)
    if not names and not calls:
        return
    # The three kinds of node from the index, not a test of every node (findings are sorted).
    keys: list[ast.expr] = [
        node.slice for node in analysis.of(ast.Subscript) if _is_config(node.value, names, calls)
    ]
    keys += [
        node.args[0]
        for node in analysis.index.calls_named(["get"])
        if isinstance(node.func, ast.Attribute)
        and _is_config(node.func.value, names, calls)
        and node.args
    ]
    keys += [
        node.left
        for node in analysis.of(ast.Compare)
        if len(node.ops) == 1
        and isinstance(node.ops[0], ast.In | ast.NotIn)
        and _is_config(node.comparators[0], names, calls)
    ]
    for key in keys:
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            yield key


def check(analysis: Analysis) -> Iterator[Finding]:
    """Report keys get_basic_config() never has."""
    facts = analysis.facts
    for key in _keys(analysis):
        name = str(key.value)
        if name in facts.basic_config_keys:
            continue
        right = facts.basic_key_synonyms.get(name) or facts.basic_key_synonyms.get(name.lower())
        if right is None:
            close = difflib.get_close_matches(name, facts.basic_config_keys, n=1, cutoff=0.6)
            right = close[0] if close else None
        hint = f"use config[{right!r}]" if right else "it has"
        yield analysis.finding(
            CODE,
            key,
            f"{facts.basic_config_method}() has no key {name!r} (KeyError, or None from "
            f".get()); {hint} (keys: {', '.join(facts.basic_config_keys)})",
        )
