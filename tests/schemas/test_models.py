"""Generated TypedDicts agree with the schemas: every example conforms to its model."""

from __future__ import annotations

import importlib
import json
import types
import typing
from pathlib import Path
from typing import Any, Literal, NotRequired, Required, Union, get_args, get_origin

import pytest

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"


def _model(name: str, title: str) -> Any:
    module = importlib.import_module(
        "trainer_contract.models." + name.replace("-", "_").replace("/", ".")
    )
    return getattr(module, title)


def _is_typeddict(tp: Any) -> bool:
    return isinstance(tp, type) and hasattr(tp, "__required_keys__")


def conforms(value: Any, tp: Any, path: str = "$") -> list[str]:
    """Problems of `value` against the type `tp` (empty when it conforms)."""
    if tp is Any or tp is object:
        return []
    origin = get_origin(tp)
    if origin in (Required, NotRequired):
        return conforms(value, get_args(tp)[0], path)
    if origin is Literal:
        return [] if value in get_args(tp) else [f"{path}: {value!r} not in {get_args(tp)}"]
    if origin in (Union, types.UnionType):
        options = get_args(tp)
        results = [conforms(value, option, path) for option in options]
        return [] if any(not r for r in results) else [f"{path}: {value!r} matches no {tp}"]
    if tp is type(None):
        return [] if value is None else [f"{path}: expected null"]
    if tp is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return [] if ok else [f"{path}: {value!r} is not a number"]
    if tp is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return [] if ok else [f"{path}: {value!r} is not an integer"]
    if tp in (str, bool):
        return [] if isinstance(value, tp) else [f"{path}: {value!r} is not {tp.__name__}"]
    if origin is list:
        if not isinstance(value, list):
            return [f"{path}: not a list"]
        (item,) = get_args(tp) or (Any,)
        return [p for i, v in enumerate(value) for p in conforms(v, item, f"{path}[{i}]")]
    if origin is dict:
        if not isinstance(value, dict):
            return [f"{path}: not an object"]
        _, item = get_args(tp) or (str, Any)
        return [p for k, v in value.items() for p in conforms(v, item, f"{path}.{k}")]
    if tp is list:
        return [] if isinstance(value, list) else [f"{path}: not a list"]
    if tp is dict:
        return [] if isinstance(value, dict) else [f"{path}: not an object"]
    if _is_typeddict(tp):
        if not isinstance(value, dict):
            return [f"{path}: not an object"]
        hints = typing.get_type_hints(tp, include_extras=True)
        total = getattr(tp, "__total__", True)
        # NotRequired is read from the hints: with postponed annotations (the generated modules
        # use them) Python 3.11 computes __required_keys__ wrongly.
        optional = {k for k, h in hints.items() if get_origin(h) is NotRequired}
        required = [
            k for k in hints if k not in optional and (total or get_origin(hints[k]) is Required)
        ]
        problems = [f"{path}.{k}: required by {tp.__name__}" for k in required if k not in value]
        for key, item in value.items():
            if key not in hints:
                continue  # extra keys: the schema (additionalProperties) decides, not the model
            problems += conforms(item, hints[key], f"{path}.{key}")
        return problems
    if isinstance(tp, typing.TypeAliasType):  # pragma: no cover - 3.12 style aliases
        return conforms(value, tp.__value__, path)
    raise AssertionError(f"{path}: the test does not know the type {tp!r}")


def _cases() -> list[tuple[str, str, Any]]:
    cases = []
    for path in sorted(SCHEMA_DIR.rglob("*.json")):
        name = path.relative_to(SCHEMA_DIR).with_suffix("").as_posix()
        doc = json.loads(path.read_text(encoding="utf-8"))
        if doc.get("type") != "object":
            continue
        for example in doc.get("examples", []):
            cases.append((name, doc["title"], example))
        for sub in doc.get("$defs", {}).values():
            if isinstance(sub, dict) and sub.get("type") == "object" and "title" in sub:
                for example in sub.get("examples", []):
                    cases.append((name, sub["title"], example))
    return cases


@pytest.mark.parametrize(("name", "title", "example"), _cases())
def test_example_round_trips_through_model(name: str, title: str, example: Any) -> None:
    model = _model(name, title)
    assert conforms(example, model) == []
    # A TypedDict is the plain dict on the wire: JSON round-trip is the identity.
    assert json.loads(json.dumps(example)) == example


def test_models_reject_what_the_schema_rejects() -> None:
    progress = _model("callbacks/progress", "TrainingProgress")
    assert conforms({"job_id": "7", "status": "running", "current_epoch": 1}, progress) != []
    error_type = _model("error-type", "ErrorType")
    assert conforms("DATASET_ERROR", error_type) != []
    assert conforms("DatasetError", error_type) == []
