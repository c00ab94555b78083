"""Request bodies for the checks, all derived from the contract: valid ones and broken ones.

Valid bodies are the `examples` of the schemas each operation accepts (the OpenAPI document keeps
them). Broken bodies are those examples with one thing wrong: a required property removed, or a
property given a value of the wrong type. Every broken body is confirmed invalid with the
contract's own validators before it is used, so a check never blames a backend for accepting
something the contract allows.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from trainer_contract.callbacks import Endpoint
from trainer_contract.validators import schema_documents, validator

__all__ = ["BrokenBody", "ExampleBody", "broken_bodies", "example_bodies", "matching_schema"]

# Values tried, in order, as "the wrong type" for a property: the first that makes the body
# invalid is used.
_WRONG_VALUES: tuple[Any, ...] = ({"unexpected": "object"}, "not-a-number", -1, [], True)


@dataclass(frozen=True)
class ExampleBody:
    """A valid body of an endpoint, with the schema it matches."""

    endpoint: Endpoint
    schema: str
    body: dict[str, Any]
    required: tuple[str, ...]  # the required properties of its schema


@dataclass(frozen=True)
class BrokenBody:
    """An invalid body: what was broken (`path`, `how`) and the example it came from."""

    endpoint: Endpoint
    path: str
    how: str
    body: Any


def matching_schema(endpoint: Endpoint, body: Any) -> str | None:
    """The body schema of `endpoint` that `body` is valid against, or None."""
    return next((name for name in endpoint.bodies if validator(name).is_valid(body)), None)


def _component_refs(schema: dict[str, Any]) -> Iterator[str]:
    if "$ref" in schema:
        yield str(schema["$ref"])
    for key in ("oneOf", "anyOf"):
        for item in schema.get(key, []):
            if isinstance(item, dict):
                yield from _component_refs(item)


def _resolve(document: dict[str, Any], ref: str) -> dict[str, Any]:
    node: Any = document
    for part in ref.lstrip("#/").split("/"):
        node = node[part]
    return dict(node)


def _request_schema(document: dict[str, Any], endpoint: Endpoint) -> dict[str, Any]:
    operation = document["paths"][endpoint.path][endpoint.method.lower()]
    content = operation["requestBody"]["content"]
    media = next(iter(content.values()))
    return dict(media["schema"])


def example_bodies(document: dict[str, Any], endpoint: Endpoint) -> list[ExampleBody]:
    """Every schema example accepted by `endpoint`, as a fresh copy."""
    found = []
    for ref in _component_refs(_request_schema(document, endpoint)):
        component = _resolve(document, ref)
        required = tuple(str(name) for name in component.get("required", []))
        for example in component.get("examples", []):
            schema = matching_schema(endpoint, example)
            if schema is not None and isinstance(example, dict):
                found.append(ExampleBody(endpoint, schema, copy.deepcopy(example), required))
    return found


def broken_bodies(example: ExampleBody) -> list[BrokenBody]:
    """One-fault variants of `example`, each confirmed invalid for every schema of its endpoint."""
    endpoint = example.endpoint
    required = [name for name in example.required if name in example.body]
    variants: list[BrokenBody] = []
    for name in required:
        body = copy.deepcopy(example.body)
        del body[name]
        if matching_schema(endpoint, body) is None:
            variants.append(BrokenBody(endpoint, f"$.{name}", "required property removed", body))
    for name in example.body:
        for wrong in _WRONG_VALUES:
            body = copy.deepcopy(example.body)
            body[name] = wrong
            if matching_schema(endpoint, body) is None:
                variants.append(
                    BrokenBody(endpoint, f"$.{name}", f"set to {type(wrong).__name__}", body)
                )
                break
    # A string one character longer than its maxLength (the platform's column size): a backend
    # must refuse it with a 4xx, never fail storing it (PostgreSQL raises, the answer is a 500).
    properties = schema_documents()[example.schema].get("properties", {})
    for name, value in example.body.items():
        limit = properties.get(name, {}).get("maxLength") if isinstance(value, str) else None
        if isinstance(limit, int):
            body = copy.deepcopy(example.body)
            body[name] = "x" * (limit + 1)
            if matching_schema(endpoint, body) is None:
                variants.append(
                    BrokenBody(endpoint, f"$.{name}", f"longer than {limit} characters", body)
                )
    variants.append(BrokenBody(endpoint, "$", "a JSON array instead of an object", [example.body]))
    return variants
