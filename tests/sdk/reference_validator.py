"""jsonschema's Draft202012Validator over the shipped contract schemas: the reference semantics
the SDK's validators are compared with (tests) and timed against (benchmarks)."""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource


def contract_schemas() -> dict[str, dict[str, Any]]:
    """Every shipped schema by its `$id`."""
    root = files("trainer_contract").joinpath("schemas")
    found: dict[str, dict[str, Any]] = {}
    pending = [root]
    while pending:
        folder = pending.pop()
        for entry in folder.iterdir():
            if entry.is_dir():
                pending.append(entry)
            elif entry.name.endswith(".json"):
                document = json.loads(entry.read_text(encoding="utf-8"))
                if isinstance(document, dict) and "$id" in document:
                    found[document["$id"]] = document
    return found


def reference_validator(schema_id_suffix: str) -> Draft202012Validator:
    """A Draft 2020-12 validator, built once, for the schema whose `$id` ends with the suffix
    (e.g. `callbacks/progress.json`), with every contract schema in its registry (offline)."""
    schemas = contract_schemas()
    registry: Registry[Any] = Registry().with_resources(
        (schema_id, Resource.from_contents(document)) for schema_id, document in schemas.items()
    )
    (schema_id,) = [s for s in schemas if s.endswith("/" + schema_id_suffix)]
    return Draft202012Validator(schemas[schema_id], registry=registry)
