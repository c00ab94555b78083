"""`openapi.json` / `openapi.py`: the OpenAPI 3.1 document of the callback API.

The schemas a callback body or answer uses are bundled into `components/schemas` (one component
per schema, its `$defs` hoisted to components of their own, every `$ref` rewritten to a local
`#/components/...` pointer, `$id`s dropped), so that any OpenAPI tool reads the document offline.
"""

from __future__ import annotations

import copy
import posixpath
from typing import Any

from trainer_tools.codegen.context import GenContext, dump_json
from trainer_tools.codegen.targets.callbacks import endpoints

_PREFIX = "#/components/schemas/"


def _component_name(ctx: GenContext, name: str, def_key: str | None = None) -> str:
    title = str(ctx.schemas[name]["title"])
    return f"{title}_{def_key}" if def_key else title


def _target(ctx: GenContext, current: str, ref: str) -> tuple[str, str]:
    """(schema name, JSON pointer) that a `$ref` inside schema `current` points to."""
    file_part, _, pointer = ref.partition("#")
    if not file_part:
        return current, pointer
    base = posixpath.dirname(current)
    name = posixpath.normpath(posixpath.join(base, file_part))
    name = name[: -len(".json")] if name.endswith(".json") else name
    if name not in ctx.schemas:
        raise SystemExit(f"schemas/{current}.json: $ref {ref!r} points to no schema")
    return name, pointer


def _rewrite(ctx: GenContext, current: str, node: Any, needed: set[tuple[str, str | None]]) -> Any:
    if isinstance(node, list):
        return [_rewrite(ctx, current, item, needed) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("$id", "$schema", "$defs") or key.startswith("x-"):
            continue
        if key == "$ref" and isinstance(value, str):
            name, pointer = _target(ctx, current, value)
            parts = [p for p in pointer.split("/") if p]
            if len(parts) >= 2 and parts[0] == "$defs":
                needed.add((name, parts[1]))
                rest = "/".join(parts[2:])
                out[key] = (
                    _PREFIX + _component_name(ctx, name, parts[1]) + (f"/{rest}" if rest else "")
                )
            else:
                needed.add((name, None))
                out[key] = _PREFIX + _component_name(ctx, name) + (pointer if pointer else "")
            continue
        out[key] = _rewrite(ctx, current, value, needed)
    return out


def _components(ctx: GenContext, roots: list[str]) -> dict[str, Any]:
    done: dict[str, Any] = {}
    todo: list[tuple[str, str | None]] = [(name, None) for name in roots]
    while todo:
        name, def_key = todo.pop()
        cname = _component_name(ctx, name, def_key)
        if cname in done:
            continue
        source = ctx.schemas[name] if def_key is None else ctx.schemas[name]["$defs"][def_key]
        needed: set[tuple[str, str | None]] = set()
        done[cname] = _rewrite(ctx, name, copy.deepcopy(source), needed)
        todo.extend(sorted(needed, key=lambda t: (t[0], t[1] or "")))
    return dict(sorted(done.items()))


def document(ctx: GenContext) -> dict[str, Any]:
    """The OpenAPI document as a dict."""
    api = ctx.schemas["callbacks/api"]
    info = api["x-api"]
    rows = endpoints(ctx)
    error_schema = info["error_response"]
    roots = sorted(
        {b for r in rows for b in r["bodies"]} | {r["response"] for r in rows} | {error_schema}
    )
    problem = {
        "description": "",
        "content": {
            "application/problem+json": {
                "schema": {"$ref": _PREFIX + _component_name(ctx, error_schema)}
            }
        },
    }
    paths: dict[str, Any] = {}
    for r in rows:
        refs = [{"$ref": _PREFIX + _component_name(ctx, b)} for b in r["bodies"]]
        body_schema = refs[0] if len(refs) == 1 else {"oneOf": refs}
        responses: dict[str, Any] = {
            "200": {
                "description": "Accepted.",
                "content": {
                    "application/json": {
                        "schema": {"$ref": _PREFIX + _component_name(ctx, r["response"])}
                    }
                },
            }
        }
        for status, why in (
            ("401", "Missing or wrong bearer token."),
            ("404", "No such job."),
            ("409", "The callback breaks the job's lifecycle (e.g. progress after completion)."),
            ("413", "The body is larger than the backend accepts."),
            ("415", "The body is not application/json."),
            ("422", "The body does not match its schema; `errors` lists every failing JSON path."),
        ):
            responses[status] = {**problem, "description": why}
        paths[r["path"]] = {
            r["method"].lower(): {
                "operationId": r["operation_id"],
                "summary": r["summary"],
                "tags": [r["operation"]],
                "parameters": [
                    {
                        "name": "job_id",
                        "in": "path",
                        "required": True,
                        "description": "The integer value of JOB_ID.",
                        "schema": {
                            "type": "integer",
                            "minimum": 0,
                            "maximum": info["job_id_maximum"],
                        },
                    },
                    {
                        "name": info["idempotency_header"],
                        "in": "header",
                        "required": False,
                        "description": "Same value on every retry of one callback; the backend stores a repeat once.",
                        "schema": {"type": "string", "minLength": 1, "maxLength": 200},
                    },
                ],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": body_schema}},
                },
                "responses": responses,
                "x-bodies": r["bodies"],
            }
        }
    return {
        "openapi": "3.1.0",
        "x-generated": ctx.header("").replace("\n ", " ").strip(),
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": info["title"],
            "version": info["version"],
            "description": info["description"],
        },
        "paths": paths,
        "components": {
            "schemas": _components(ctx, roots),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{}, {"bearer": []}],
    }


def generate(ctx: GenContext) -> dict[str, str]:
    """Write the document and a loader."""
    loader = (
        ctx.header()
        + '"""The OpenAPI 3.1 document of the callback API (openapi.json beside this file)."""\n\n'
        + "from __future__ import annotations\n\n"
        + "import json\n"
        + "from importlib import resources\n"
        + "from typing import Any\n\n"
        + '__all__ = ["load"]\n\n\n'
        + "def load() -> dict[str, Any]:\n"
        + '    """A fresh copy of the document."""\n'
        + '    text = resources.files("trainer_contract").joinpath("openapi.json").read_text(encoding="utf-8")\n'
        + "    document: dict[str, Any] = json.loads(text)\n"
        + "    return document\n"
    )
    return {"openapi.json": dump_json(document(ctx)), "openapi.py": loader}
