"""JSON Schema, said in words: types with their limits, and the fields of a payload as rows."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any
from urllib.parse import urldefrag, urljoin

from trainer_contract.validators import SCHEMA_NAMES, schema_documents
from trainer_tools.docs.markdown import code, json_value

# Deeper than this, a nested object is shown by its type only (a payload is read, not walked).
MAX_DEPTH = 3


@dataclass(frozen=True)
class Field:
    """One row of a payload table: a dotted path such as `metrics.extra_metrics`."""

    path: str
    type: str
    required: bool
    description: str
    default: str = ""  # the schema's default as inline code, or ""


class SchemaIndex:
    """Every contract schema by name and by `$id`, with `$ref` resolution."""

    def __init__(self) -> None:
        packaged = resources.files("trainer_contract") / "schemas"
        self.documents: dict[str, dict[str, Any]] = {}
        for name in SCHEMA_NAMES:
            # The shipped files keep the authors' property order, which reads best in tables;
            # schema_documents() has the same content (a check below keeps them honest).
            text = (packaged / f"{name}.json").read_text(encoding="utf-8")
            self.documents[name] = json.loads(text)
        compiled = schema_documents()
        for name, document in self.documents.items():
            if _without_comment(document) != _without_comment(compiled[name]):
                raise RuntimeError(
                    f"trainer_contract/schemas/{name}.json differs from the compiled schema: "
                    f"run `make generate`"
                )
        self._by_id = {doc["$id"]: name for name, doc in self.documents.items()}

    def resolve(self, schema: dict[str, Any], base: str) -> tuple[dict[str, Any], str]:
        """Follow `$ref` chains; returns the target and the `$id` it lives in."""
        seen: set[str] = set()
        while "$ref" in schema:
            target = urljoin(base, schema["$ref"])
            if target in seen:
                raise RuntimeError(f"$ref cycle at {target}")
            seen.add(target)
            document_id, fragment = urldefrag(target)
            node: Any = self.documents[self._by_id[document_id]]
            for part in [p for p in fragment.split("/") if p]:
                node = node[part.replace("~1", "/").replace("~0", "~")]
            # Keywords beside $ref (a description, say) win over the target's.
            merged = {**node, **{k: v for k, v in schema.items() if k != "$ref"}}
            schema, base = merged, document_id
        return schema, base

    def type_text(self, schema: dict[str, Any], base: str) -> str:
        """`integer, >= 0`, `string | null`, `"running"`, `array of number`, ..."""
        title = schema.get("title") if "$ref" in schema else None
        schema, base = self.resolve(schema, base)
        title = title or _ref_title(schema)
        if "const" in schema:
            return json_value(schema["const"])
        if "enum" in schema:
            return "one of " + ", ".join(json_value(v) for v in schema["enum"])
        for keyword in ("anyOf", "oneOf"):
            if keyword in schema:
                branches = [self.type_text(b, base) for b in schema[keyword]]
                return " | ".join(dict.fromkeys(branches))
        kinds = schema.get("type")
        names = [kinds] if isinstance(kinds, str) else list(kinds or [])
        words: list[str] = []
        for kind in names or ["any"]:
            if kind == "array" and isinstance(schema.get("items"), dict):
                words.append(f"array of {_grouped(self.type_text(schema['items'], base))}")
            elif kind == "object" and title:
                words.append(f"object ({title})")
            elif kind == "object" and isinstance(schema.get("additionalProperties"), dict):
                inner = self.type_text(schema["additionalProperties"], base)
                words.append(f"object of {_grouped(inner)}")
            else:
                words.append(kind)
        text = " | ".join(words)
        limits = _limits(schema)
        return f"{text}, {limits}" if limits else text

    def fields(self, schema: dict[str, Any], base: str, prefix: str = "") -> list[Field]:
        """The rows of an object schema: required fields first (in `required` order), nested
        objects and arrays of objects expanded below their parent (`metrics.loss`,
        `image_results[].is_correct`)."""
        schema, base = self.resolve(schema, base)
        properties: dict[str, Any] = schema.get("properties", {})
        required = [name for name in schema.get("required", []) if name in properties]
        order = required + [name for name in properties if name not in required]
        rows: list[Field] = []
        for name in order:
            child = properties[name]
            path = f"{prefix}{name}"
            target, target_base = self.resolve(child, base)
            description = child.get("description") or target.get("description", "")
            default = json_value(target["default"]) if "default" in target else ""
            rows.append(
                Field(
                    path, self.type_text(child, base), name in required, description or "", default
                )
            )
            depth = path.count(".") + path.count("[]") + 1
            if depth >= MAX_DEPTH:
                continue
            nested = _object_branch(self, target, target_base)
            if nested is not None:
                rows += self.fields(nested[0], nested[1], f"{path}.")
            items = target.get("items")
            if isinstance(items, dict):
                item, item_base = self.resolve(items, target_base)
                if "properties" in item:
                    rows += self.fields(item, item_base, f"{path}[].")
        return rows


def _object_branch(
    index: SchemaIndex, schema: dict[str, Any], base: str
) -> tuple[dict[str, Any], str] | None:
    """The object schema with properties inside `schema` (itself, or its non-null branch)."""
    if "properties" in schema:
        return schema, base
    for keyword in ("anyOf", "oneOf"):
        for branch in schema.get(keyword, []):
            target, target_base = index.resolve(branch, base)
            if "properties" in target:
                return target, target_base
    return None


def _grouped(text: str) -> str:
    """Parentheses around a compound type, so `array of (integer | null) | null` reads right."""
    return f"({text})" if " | " in text or ", " in text else text


def _ref_title(schema: dict[str, Any]) -> str | None:
    title = schema.get("title")
    return title if isinstance(title, str) else None


def _limits(schema: dict[str, Any]) -> str:
    parts: list[str] = []
    for keyword, sign in (
        ("minimum", ">="),
        ("exclusiveMinimum", ">"),
        ("maximum", "<="),
        ("exclusiveMaximum", "<"),
    ):
        if keyword in schema:
            parts.append(f"{sign} {json.dumps(schema[keyword])}")
    if "minLength" in schema:
        parts.append(f"length >= {schema['minLength']}")
    if "minItems" in schema:
        parts.append(f"items >= {schema['minItems']}")
    if "format" in schema:
        parts.append(f"format {schema['format']}")
    if "pattern" in schema:
        parts.append(f"matches {code(schema['pattern'])}")
    if isinstance(schema.get("not"), dict) and "const" in schema["not"]:
        parts.append(f"not {json.dumps(schema['not']['const'])}")
    return ", ".join(parts)


def _without_comment(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key != "$comment"}
