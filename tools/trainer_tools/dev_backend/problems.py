"""RFC 9457 problem details: every error the reference backend answers, as `application/problem+json`.

A problem names what was wrong (`title`, `detail`), where (`instance`: the request path; `errors`:
every failing JSON path of the body) and carries the fix in `detail`. The shape is the contract's
error response schema; `problem()` validates what it builds against it in the tests.
"""

from __future__ import annotations

from collections.abc import Iterable
from http import HTTPStatus
from typing import Any

from starlette.responses import JSONResponse

__all__ = ["PROBLEM_MEDIA_TYPE", "ProblemResponse", "problem", "schema_errors"]

PROBLEM_MEDIA_TYPE = "application/problem+json"
# Problem type URIs are relative references (RFC 9457 section 3.1.1): stable identifiers a client
# can switch on, resolved against the backend's own URL.
_TYPE_BASE = "/problems/"


def problem(
    status: int,
    detail: str,
    *,
    kind: str | None = None,
    instance: str | None = None,
    errors: Iterable[dict[str, str]] = (),
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Build a problem document; `kind` becomes the type URI (`about:blank` when None)."""
    body: dict[str, Any] = {
        "type": _TYPE_BASE + kind if kind else "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if instance is not None:
        body["instance"] = instance
    listed = list(errors)
    if listed:
        body["errors"] = listed
    if extra:
        body.update(extra)
    return body


def schema_errors(errors: Iterable[Any]) -> list[dict[str, str]]:
    """Turn the validators' `SchemaError`s (path, message, keyword) into problem `errors` items."""
    return [
        {"path": str(e.path), "message": str(e.message), "keyword": str(e.keyword)} for e in errors
    ]


class ProblemResponse(JSONResponse):
    """A JSON response with the problem media type."""

    media_type = PROBLEM_MEDIA_TYPE
