"""docs/reference/callbacks.md: every callback endpoint and the fields of every payload."""

from __future__ import annotations

from trainer_contract.callbacks import ENDPOINTS, ERROR_RESPONSE_SCHEMA
from trainer_contract.sdk_api import SDK_METHODS
from trainer_tools.docs.markdown import anchor, code, page, table
from trainer_tools.docs.schema_text import SchemaIndex

FILE = "callbacks.md"
TITLE = "Callbacks"


def _heading(index: SchemaIndex, name: str) -> str:
    return f"{index.documents[name].get('title', name)} ({name})"


def _link(index: SchemaIndex, name: str) -> str:
    return f"[{index.documents[name].get('title', name)}](#{anchor(_heading(index, name))})"


def _payload_section(index: SchemaIndex, name: str) -> str:
    schema = index.documents[name]
    senders = [code(m.name + "()") for m in SDK_METHODS.values() if name in m.sends]
    endpoints = [f"{code(e.method + ' ' + e.path)}" for e in ENDPOINTS.values() if name in e.bodies]
    answered = [
        f"{code(e.method + ' ' + e.path)}" for e in ENDPOINTS.values() if e.response == name
    ]
    lines = [f"### {_heading(index, name)}", "", schema.get("description", "")]
    facts = []
    if senders:
        facts.append(f"Sent by {', '.join(senders)}")
    if endpoints:
        facts.append(f"to {', '.join(endpoints)}")
    if answered:
        facts.append(f"The 2xx answer of {len(answered)} endpoints")
    if name == ERROR_RESPONSE_SCHEMA:
        facts.append("The error answer (4xx/5xx, `application/problem+json`) of every endpoint")
    if facts:
        lines += ["", " ".join(facts) + "."]
    rows = [
        [code(f.path), f.type, "yes" if f.required else "", f.description]
        for f in index.fields(schema, schema["$id"])
    ]
    closed = schema.get("additionalProperties") is False
    lines += [
        "",
        table(["field", "type", "required", "description"], rows),
        "",
        "Other fields are rejected before sending (a misspelt field fails in the trainer)."
        if closed
        else "Other fields are allowed.",
    ]
    return "\n".join(lines)


def render(index: SchemaIndex) -> str:
    """The page text."""
    endpoint_rows = [
        [
            code(e.method),
            code(e.path),
            e.operation,
            ", ".join(_link(index, b) for b in e.bodies),
            _link(index, e.response),
            e.summary,
        ]
        for e in ENDPOINTS.values()
    ]
    bodies = list(dict.fromkeys(b for e in ENDPOINTS.values() for b in e.bodies))
    answers = list(
        dict.fromkeys([*(e.response for e in ENDPOINTS.values()), ERROR_RESPONSE_SCHEMA])
    )
    api = index.documents["callbacks/api"]
    sections = [
        "## Endpoints\n\nPaths are relative to `CALLBACK_URL`; `{job_id}` is the integer value of "
        "`JOB_ID`.\n\n"
        + table(["method", "path", "job kind", "bodies", "answer", "what"], endpoint_rows),
        "## Payloads\n\n" + "\n\n".join(_payload_section(index, b) for b in bodies),
        "## Answers\n\n" + "\n\n".join(_payload_section(index, a) for a in answers),
    ]
    intro = (
        f"{api.get('description', '')}\n\nThe OpenAPI 3.1 document of this API is "
        "[generated/trainer_contract/openapi.json](../../generated/trainer_contract/openapi.json)."
    )
    return page(TITLE, intro, sections)
