"""The schemas themselves: metaschema, examples, invalid instances, documented x- keywords."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from referencing import Registry, Resource

from trainer_contract.validators import SCHEMA_NAMES, schema_documents, validator

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_DIR = ROOT / "schemas"
INVALID_DIR = Path(__file__).parent / "invalid"


def _load(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((SCHEMA_DIR / f"{name}.json").read_text(encoding="utf-8"))
    return doc


def _names() -> list[str]:
    return sorted(
        p.relative_to(SCHEMA_DIR).with_suffix("").as_posix() for p in SCHEMA_DIR.rglob("*.json")
    )


def _examples() -> list[tuple[str, int, Any]]:
    """(validator name, index, example) for the examples of every schema and of its $defs."""
    cases = []
    for name in _names():
        doc = _load(name)
        for i, example in enumerate(doc.get("examples", [])):
            cases.append((name, i, example))
        for key, sub in doc.get("$defs", {}).items():
            if isinstance(sub, dict):
                for i, example in enumerate(sub.get("examples", [])):
                    cases.append((f"{name}#/$defs/{key}", i, example))
    return cases


def _jsonschema_validator(name: str) -> jsonschema.Draft202012Validator:
    """The reference implementation (python-jsonschema), for cross-checking."""
    resources = [(_load(n)["$id"], Resource.from_contents(_load(n))) for n in _names()]
    registry: Registry[Any] = Registry().with_resources(resources)
    base, _, fragment = name.partition("#")
    schema: dict[str, Any] = (
        {"$ref": f"{_load(base)['$id']}#{fragment}"} if fragment else _load(base)
    )
    return jsonschema.Draft202012Validator(
        schema, registry=registry, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def test_generated_package_knows_every_schema() -> None:
    assert sorted(SCHEMA_NAMES) == _names()
    assert schema_documents() == {n: _load(n) for n in _names()}


@pytest.mark.parametrize("name", _names())
def test_schema_passes_its_metaschema(name: str) -> None:
    doc = _load(name)
    assert doc.get("$schema") == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(doc)


@pytest.mark.parametrize("name", _names())
def test_schema_has_id_title_description_examples(name: str) -> None:
    doc = _load(name)
    assert doc["$id"] == f"https://trainer-sdk.dev/schemas/{name}.json"
    assert isinstance(doc["title"], str) and doc["title"]
    assert isinstance(doc["description"], str) and len(doc["description"]) > 20
    assert isinstance(doc["examples"], list) and doc["examples"], "every schema needs examples"


@pytest.mark.parametrize(("name", "index", "example"), _examples())
def test_every_example_validates(name: str, index: int, example: Any) -> None:
    errors = validator(name).errors(example)
    assert errors == [], f"{name} example {index}: {errors}"
    # The reference implementation agrees.
    assert list(_jsonschema_validator(name).iter_errors(example)) == []


def _invalid_cases() -> list[tuple[str, str, dict[str, Any]]]:
    cases = []
    for path in sorted(INVALID_DIR.rglob("*.json")):
        case = json.loads(path.read_text(encoding="utf-8"))
        name = case.get("schema") or path.parent.relative_to(INVALID_DIR).as_posix()
        cases.append((name, path.relative_to(INVALID_DIR).as_posix(), case))
    return cases


def test_every_schema_has_invalid_instances() -> None:
    covered = {name.partition("#")[0] for name, _, _ in _invalid_cases()}
    missing = [n for n in _names() if n not in covered]
    assert not missing, f"schemas without hand-written invalid instances: {missing}"


@pytest.mark.parametrize(("name", "case_file", "case"), _invalid_cases())
def test_invalid_instance_fails_at_expected_paths(
    name: str, case_file: str, case: dict[str, Any]
) -> None:
    errors = validator(name).errors(case["instance"])
    assert sorted({e.path for e in errors}) == sorted(set(case["errors_at"])), case_file
    if "keywords" in case:
        assert sorted({e.keyword for e in errors}) == sorted(set(case["keywords"])), case_file
    # python-jsonschema rejects it too (NaN aside, which JSON cannot carry).
    assert not _jsonschema_validator(name).is_valid(case["instance"]) or all(
        e.keyword == "finite" for e in errors
    )


def _x_keywords(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key.startswith("x-"):
                found.add(key)
            if key not in ("examples", "default", "const", "enum"):
                _x_keywords(value, found)
    elif isinstance(node, list):
        for item in node:
            _x_keywords(item, found)


def test_every_x_keyword_is_documented() -> None:
    readme = (SCHEMA_DIR / "README.md").read_text(encoding="utf-8")
    used: set[str] = set()
    for name in _names():
        _x_keywords(_load(name), used)
    undocumented = sorted(k for k in used if f"`{k}`" not in readme)
    assert not undocumented, f"x- keywords missing from schemas/README.md: {undocumented}"


def test_endpoint_table_entries_match_their_schema() -> None:
    api = _load("callbacks/api")
    check = validator("callbacks/api")
    for entry in api["x-endpoints"]:
        assert check.errors(entry) == [], entry["name"]
