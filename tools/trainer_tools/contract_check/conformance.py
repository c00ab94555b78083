"""Does one answer of a backend conform to the contract's OpenAPI document?

Three things, each a readable failure line when broken: the status code is documented for the
operation (or is a documented range), the media type is the documented one, and the body
validates against the documented schema (the endpoint's answer schema for 2xx, the contract's
problem schema for errors).
"""

from __future__ import annotations

import json
from typing import Any

from trainer_contract.callbacks import ERROR_RESPONSE_SCHEMA, Endpoint
from trainer_contract.validators import validator

__all__ = ["response_failures"]


def _documented(document: dict[str, Any], endpoint: Endpoint) -> dict[str, Any]:
    operation = document["paths"][endpoint.path][endpoint.method.lower()]
    responses: dict[str, Any] = operation.get("responses", {})
    return responses


def response_failures(
    document: dict[str, Any],
    endpoint: Endpoint,
    status: int,
    content_type: str | None,
    text: str,
) -> list[str]:
    """Everything wrong with one answer (empty when it conforms)."""
    where = f"{endpoint.method} {endpoint.path} answered {status}"
    if status >= 500:
        return [f"{where}: a server error; a callback must never cause one. Body: {text[:300]}"]
    responses = _documented(document, endpoint)
    spec = (
        responses.get(str(status))
        or responses.get(f"{str(status)[0]}XX")
        or responses.get("default")
    )
    if spec is None:
        return [f"{where}: status {status} is not documented (documented: {sorted(responses)})"]
    failures = []
    media = (content_type or "").split(";")[0].strip().lower()
    documented_media = list(spec.get("content", {}))
    if documented_media and media not in documented_media:
        failures.append(
            f"{where}: Content-Type {media or '(none)'!r}, documented {documented_media}"
        )
    if not documented_media:
        return failures
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        return [*failures, f"{where}: the body is not JSON ({exc}): {text[:200]!r}"]
    schema = endpoint.response if 200 <= status < 300 else ERROR_RESPONSE_SCHEMA
    errors = validator(schema).errors(body, limit=5)
    if errors:
        shown = "; ".join(str(e) for e in errors)
        failures.append(f"{where}: the body does not match {schema}: {shown}")
    return failures
