"""Compiled validators for every schema of the contract (exact JSON Schema 2020-12).

`validator(name)` compiles a schema once (jsonschema-rs, with a registry of every contract schema,
offline: a `$ref` never reaches the network) and caches it. `Validator.errors` reports every error,
each with the JSON path of the offending value (`$.metrics.extra_metrics['mAP50-95']`), the broken
keyword and a message; `required` and `additionalProperties` errors point at the missing or
unexpected property itself. JSON cannot carry NaN or infinity but Python floats can, and no JSON
Schema validator rejects them: `errors` also reports every non-finite number (keyword `finite`).
"""

from __future__ import annotations

import json
import math
import re
import threading
from dataclasses import dataclass
from typing import Any

import jsonschema_rs

from trainer_contract._schema_data import SCHEMA_IDS, SCHEMAS_JSON

__all__ = ["SCHEMA_NAMES", "SchemaError", "SchemaValidationError", "Validator", "validator"]

SCHEMA_NAMES: tuple[str, ...] = tuple(SCHEMA_IDS)
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True, order=True)
class SchemaError:
    """One violation: where (JSON path), what rule (keyword), and a message."""

    path: str
    message: str
    keyword: str
    schema_path: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message} [{self.keyword}]"


class SchemaValidationError(ValueError):
    """An instance broke its schema; `.errors` lists every violation."""

    def __init__(self, schema: str, errors: list[SchemaError]) -> None:
        self.schema = schema
        self.errors = errors
        shown = "\n".join(f"  {e}" for e in errors[:20])
        more = f"\n  ... and {len(errors) - 20} more" if len(errors) > 20 else ""
        super().__init__(f"{len(errors)} error(s) against schema {schema!r}:\n{shown}{more}")


def json_path(parts: list[str | int] | tuple[str | int, ...]) -> str:
    """`["metrics", "mAP50-95", 0]` -> `$.metrics['mAP50-95'][0]`."""
    out = ["$"]
    for part in parts:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _IDENTIFIER.match(part):
            out.append(f".{part}")
        else:
            out.append("[" + json.dumps(part).replace('"', "'") + "]")
    return "".join(out)


def _non_finite(value: Any, path: list[str | int], found: list[list[str | int]]) -> None:
    if isinstance(value, float):
        if not math.isfinite(value):
            found.append(list(path))
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list, tuple, float)):
                path.append(str(key))
                _non_finite(item, path, found)
                path.pop()
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            if isinstance(item, (dict, list, tuple, float)):
                path.append(index)
                _non_finite(item, path, found)
                path.pop()


def _all_finite(value: Any) -> bool:
    """`_non_finite` found nothing: the same walk (dicts, lists, tuples, floats and their
    subclasses), without paths, exact types first (the hot path of every callback)."""
    kind = type(value)
    if kind is dict:
        items: Any = value.values()
    elif kind is list or kind is tuple:
        items = value
    elif kind is float:
        return bool(value - value == 0.0)  # NaN and infinities give NaN
    elif isinstance(value, float):
        return math.isfinite(value)
    elif isinstance(value, dict):
        items = value.values()
    elif isinstance(value, (list, tuple)):
        items = value
    else:
        return True
    for item in items:
        kind = type(item)
        if kind is float:
            if item - item != 0.0:
                return False
        elif kind is str or kind is int or kind is bool or item is None:
            continue
        elif not _all_finite(item):
            return False
    return True


_JSON_TYPES = ["null", "boolean", "string", "number", "array", "object"]


def _json_value(depth: int) -> dict[str, Any]:
    """Every value is of a JSON type, all the way down: jsonschema-rs gives NaN and the
    infinities no JSON type, so this rejects them, in the same pass as the schema (see
    `Validator.is_valid`). Spelled out `depth` levels deep (a `$ref` per level costs a lookup
    per value), then recursive."""
    if depth == 0:
        return {"$ref": "#/$defs/json-value"}
    inner = _json_value(depth - 1)
    return {"type": _JSON_TYPES, "items": inner, "additionalProperties": inner}


class Validator:
    """A compiled schema. Thread-safe; build it once with `validator(name)`."""

    def __init__(self, name: str, compiled: Any, target: Any = None) -> None:
        self.name = name
        self._compiled = compiled
        self._target = target
        self._finite: Any = None

    def __repr__(self) -> str:
        return f"Validator({self.name!r})"

    def _finite_validator(self) -> Any:
        """The schema and "every number finite" in one compiled validator (built on first use)."""
        if self._finite is None:
            schema = {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "allOf": [{"$ref": self._target}, _json_value(4)],
                "$defs": {"json-value": _json_value(1)},
            }
            self._finite = jsonschema_rs.validator_for(
                schema, registry=_get_registry(), validate_formats=True, retriever=_no_network
            )
        return self._finite

    def is_valid(self, instance: Any, *, check_finite: bool = True) -> bool:
        """True when `instance` has no error (the fast path: no error objects are built).

        A valid instance costs one call into jsonschema-rs: the schema and the finite-number
        check together. Anything else (an error, a value jsonschema-rs cannot take) is decided
        by the exact path: the schema alone, then the walk over every number."""
        if check_finite and self._target is not None:
            finite = self._finite or self._finite_validator()
            try:
                if finite.is_valid(instance):
                    return True
            except ValueError:
                pass  # a type jsonschema-rs does not take: the exact path says what it says
        if not self._compiled.is_valid(instance):
            return False
        return _all_finite(instance) if check_finite else True

    def errors(
        self, instance: Any, limit: int | None = None, *, check_finite: bool = True
    ) -> list[SchemaError]:
        """Every violation, sorted by path; at most `limit` of them when given."""
        found: list[SchemaError] = []
        if check_finite:
            bad: list[list[str | int]] = []
            _non_finite(instance, [], bad)
            for parts in bad:
                found.append(
                    SchemaError(
                        json_path(parts),
                        "is not a finite number (NaN or infinity: JSON cannot carry it)",
                        "finite",
                        "",
                    )
                )
        if not self._compiled.is_valid(instance):
            for error in self._compiled.iter_errors(instance):
                found.extend(_convert(error))
                if limit is not None and len(found) >= limit * 4:
                    break
        # jsonschema-rs sees NaN as null: its own error at a non-finite path only repeats ours.
        non_finite = {e.path for e in found if e.keyword == "finite"}
        found = sorted({e for e in found if e.keyword == "finite" or e.path not in non_finite})
        return found[:limit] if limit is not None else found

    def validate(self, instance: Any, *, check_finite: bool = True) -> None:
        """Raise `SchemaValidationError` listing every violation, or return None."""
        if self.is_valid(instance, check_finite=check_finite):
            return
        raise SchemaValidationError(self.name, self.errors(instance, check_finite=check_finite))


def _convert(error: Any) -> list[SchemaError]:
    parts: list[str | int] = list(error.instance_path)
    schema_parts = [str(p) for p in error.schema_path]
    keyword = schema_parts[-1] if schema_parts else type(error.kind).__name__
    schema_path = "/" + "/".join(schema_parts)
    kind = error.kind
    kind_name = type(kind).__name__
    if kind_name == "Required":
        prop = str(kind.property)
        return [
            SchemaError(
                json_path([*parts, prop]), "is a required property", "required", schema_path
            )
        ]
    if kind_name == "AdditionalProperties":
        return [
            SchemaError(
                json_path([*parts, str(p)]),
                "is not allowed here (no such property in the schema)",
                "additionalProperties",
                schema_path,
            )
            for p in kind.unexpected
        ]
    if kind_name == "UnevaluatedProperties":
        return [
            SchemaError(
                json_path([*parts, str(p)]),
                "is not allowed here (unevaluated property)",
                "unevaluatedProperties",
                schema_path,
            )
            for p in kind.unexpected
        ]
    if kind_name in ("AnyOf", "OneOfNotValid"):
        branch = _closest_branch(parts, getattr(kind, "context", None) or [])
        if branch:
            return [converted for sub in branch for converted in _convert(sub)]
    return [SchemaError(json_path(parts), str(error.message), keyword, schema_path)]


def _closest_branch(parts: list[str | int], branches: list[list[Any]]) -> list[Any] | None:
    """The branch of an anyOf/oneOf that the instance nearly matched.

    A branch that fails only because the value has another type at this very path (the `null` of
    a nullable field, say) is not what the author meant; among the others, the one with the fewest
    errors explains the failure best. None when no branch stands out.
    """
    candidates = []
    for errors in branches:
        if not errors:
            continue
        wrong_type_here = all(
            type(e.kind).__name__ == "Type" and list(e.instance_path) == parts for e in errors
        )
        if not wrong_type_here:
            candidates.append(errors)
    if not candidates:
        return None
    return min(candidates, key=len)


_lock = threading.Lock()
_cache: dict[str, Validator] = {}
_registry: Any = None
_documents: dict[str, Any] | None = None


def schema_documents() -> dict[str, Any]:
    """Every contract schema by name (parsed once)."""
    global _documents
    if _documents is None:
        _documents = json.loads(SCHEMAS_JSON)
    return _documents


def _get_registry() -> Any:
    global _registry
    if _registry is None:
        docs = schema_documents()
        _registry = jsonschema_rs.Registry([(SCHEMA_IDS[name], docs[name]) for name in SCHEMA_IDS])
    return _registry


def _no_network(uri: str) -> Any:
    raise KeyError(
        f"{uri} is not a contract schema (validators never fetch schemas over the network)"
    )


def validator(name: str) -> Validator:
    """The compiled validator of a schema: `callbacks/progress`, `sdk-api#/$defs/log`, ..."""
    cached = _cache.get(name)
    if cached is not None:
        return cached
    with _lock:
        cached = _cache.get(name)
        if cached is not None:
            return cached
        base, _, fragment = name.partition("#")
        if base not in SCHEMA_IDS:
            known = ", ".join(SCHEMA_NAMES)
            raise KeyError(f"unknown schema {base!r}; known: {known}")
        target = f"{SCHEMA_IDS[base]}#{fragment}" if fragment else SCHEMA_IDS[base]
        if fragment:
            schema: Any = {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "$ref": target,
            }
        else:
            schema = schema_documents()[base]
        compiled = jsonschema_rs.validator_for(
            schema, registry=_get_registry(), validate_formats=True, retriever=_no_network
        )
        result = Validator(name, compiled, target)
        _cache[name] = result
        return result
