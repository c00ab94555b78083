"""Literal arguments of SDK calls, checked against the parameter schemas of `trainer_contract`.

An argument such as `{'loss': loss, 'accuracy': 0.9}` is partly literal: its keys and `0.9` are
known, `loss` is not. It becomes the JSON value `{'loss': None, 'accuracy': 0.9}` plus the paths of
its unknown parts; the method's argument-object validator (`sdk-api#/$defs/<method>`) then judges
the known parts, and errors at or under an unknown path are dropped (the placeholder is not the
trainer's value).
"""

from __future__ import annotations

import ast
import functools
import json
import re
from dataclasses import dataclass
from typing import Any

from trainer_contract.validators import SchemaError, validator

__all__ = [
    "LiteralProblem",
    "LiteralValue",
    "check_literal_arguments",
    "json_path",
    "literal_value",
]

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def json_path(parts: list[str | int]) -> str:
    """The path format of `trainer_contract.validators`: `$.metrics['mAP50-95'][0]`."""
    out = ["$"]
    for part in parts:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _IDENTIFIER.match(part):
            out.append(f".{part}")
        else:
            out.append("[" + json.dumps(part).replace('"', "'") + "]")
    return "".join(out)


@functools.lru_cache(maxsize=4096)
def _path_text(path: tuple[str | int, ...]) -> str:
    """`json_path` of a path tuple; the same few parameter paths recur in every file."""
    return json_path(list(path))


@dataclass(frozen=True)
class LiteralValue:
    """A JSON value built from an expression, with the paths whose values are not known."""

    value: Any
    unknown: tuple[tuple[str | int, ...], ...]
    has_known: bool
    """Something in it is literal (a wholly unknown argument is not worth validating)."""
    nodes: dict[str, ast.expr]
    """JSON path -> the expression that produced the value there."""


_UNKNOWN = object()
# The classes of constant a JSON value can be (the parser makes these exact classes).
_JSON_SCALARS = frozenset({type(None), str, int, float, bool})


def _convert(
    node: ast.expr,
    path: tuple[str | int, ...],
    unknown: list[tuple[str | int, ...]],
    nodes: dict[str, ast.expr] | None,
) -> Any:
    """The JSON value of `node` at `path`; unknown parts are appended to `unknown`, and each
    path's expression recorded in `nodes` (None: not recorded, as when no error needs it)."""
    if nodes is not None:
        nodes[_path_text(path)] = node
    kind = node.__class__  # one class test for the commonest case, a JSON scalar
    if kind is ast.Constant and node.value.__class__ in _JSON_SCALARS:  # type: ignore[attr-defined]
        return node.value  # type: ignore[attr-defined]
    # Below, `kind is X` is the cheap test and `isinstance` only narrows the type for mypy.
    if (
        kind is ast.UnaryOp
        and isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub | ast.UAdd)
        and isinstance(node.operand, ast.Constant)
        and isinstance(node.operand.value, int | float)
        and not isinstance(node.operand.value, bool)
    ):
        return -node.operand.value if isinstance(node.op, ast.USub) else node.operand.value
    if kind is ast.Dict and isinstance(node, ast.Dict):
        result: dict[str, Any] = {}
        for key, value in zip(node.keys, node.values, strict=True):
            if key is None or not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                # `**other` or a computed key: the dict's full content is unknown.
                unknown.append(path)
                return result
            result[key.value] = _convert(value, (*path, key.value), unknown, nodes)
        return result
    if (kind is ast.List or kind is ast.Tuple) and isinstance(node, ast.List | ast.Tuple):
        if any(isinstance(e, ast.Starred) for e in node.elts):
            unknown.append(path)
            return []
        return [_convert(e, (*path, i), unknown, nodes) for i, e in enumerate(node.elts)]
    unknown.append(path)
    return None


def literal_value(node: ast.expr, path: tuple[str | int, ...]) -> LiteralValue:
    """Convert an argument expression rooted at `path` of the argument object."""
    unknown: list[tuple[str | int, ...]] = []
    nodes: dict[str, ast.expr] = {}
    value = _convert(node, path, unknown, nodes)
    has_known = path not in unknown
    return LiteralValue(value, tuple(unknown), has_known, nodes)


@dataclass(frozen=True)
class LiteralProblem:
    """A schema error in a literal argument."""

    param: str
    path: str
    keyword: str
    message: str
    node: ast.expr
    """The innermost expression that holds the bad value (the dict, for a missing key)."""
    missing_key: str | None
    """For a `required` error inside a literal: the key that is missing."""


# (schema, repr of the instance) -> its errors. The instances are built from literals alone
# (None, bool, int, float, str, and dicts and lists of them), so equal reprs are equal values of
# equal types; trainers repeat the same calls with the same placeholders (`{'loss': None}`), so
# a run validates each shape once. Bounded: cleared when full.
_ERRORS: dict[tuple[str, str], list[SchemaError]] = {}
_MAX_ERRORS = 4096


def _schema_errors(schema_name: str, instance: dict[str, Any]) -> list[SchemaError]:
    key = (schema_name, repr(instance))
    found = _ERRORS.get(key)
    if found is None:
        found = validator(schema_name).errors(instance)
        if len(_ERRORS) >= _MAX_ERRORS:
            _ERRORS.clear()
        _ERRORS[key] = found
    return found


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + ".") or path.startswith(prefix + "[")


def check_literal_arguments(
    schema_name: str, arguments: dict[str, ast.expr]
) -> list[LiteralProblem]:
    """Schema errors of the literal parts of `arguments` (parameter name -> expression)."""
    instance: dict[str, Any] = {}
    unknown: list[tuple[str | int, ...]] = []
    checked: list[str] = []
    for name, node in arguments.items():
        before = len(unknown)
        value = _convert(node, (name,), unknown, None)
        if (name,) in unknown[before:]:
            del unknown[before:]  # nothing of it is literal: not worth validating
            continue
        instance[name] = value
        checked.append(name)
    if not checked:
        return []
    errors = _schema_errors(schema_name, instance)
    if not errors:
        return []  # the usual case, found without recording where each value came from
    unknown_paths = [_path_text(p) for p in unknown]
    nodes: dict[str, ast.expr] = {}
    for name in checked:
        _convert(arguments[name], (name,), [], nodes)
    problems: list[LiteralProblem] = []
    for error in errors:
        param = next((n for n in checked if _under(error.path, _path_text((n,)))), None)
        if param is None:
            continue  # an error about a parameter that was not given literally
        if any(_under(error.path, u) for u in unknown_paths):
            continue
        holder = max((p for p in nodes if _under(error.path, p)), key=len)
        missing = None
        if error.keyword == "required" and error.path != holder:
            missing = error.path[len(holder) :].lstrip(".").strip("[]'")
        problems.append(
            LiteralProblem(param, error.path, error.keyword, error.message, nodes[holder], missing)
        )
    return problems
