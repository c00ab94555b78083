"""The reference backend: a Starlette app serving every callback endpoint of the generated contract.

Routes, request schemas, answer schemas and the OpenAPI document all come from `trainer_contract`;
the app adds what a real backend does with them:

- validation of each body against its schema(s), answering 422 `application/problem+json` with
  every failing JSON path (RFC 9457);
- the per-job lifecycle (`lifecycle.advance`): 409 with the reason when a callback is out of order;
- `Idempotency-Key`: a repeat gets the first answer (header `Idempotent-Replayed: true`) and is
  stored once; the same key with a different request is refused;
- an optional bearer token (401 without it);
- a record of everything in SQLite, served at `GET /jobs/{job_id}/timeline`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import jsonschema_rs
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from trainer_contract.callbacks import ENDPOINTS, IDEMPOTENCY_HEADER, Endpoint
from trainer_contract.models.callbacks.response import CallbackResponse
from trainer_contract.openapi import load as load_openapi
from trainer_contract.validators import SchemaError, validator
from trainer_tools.dev_backend.lifecycle import (
    EventKind,
    JobState,
    LifecycleConflict,
    advance,
)
from trainer_tools.dev_backend.pages import is_page, page_routes
from trainer_tools.dev_backend.problems import ProblemResponse, problem, schema_errors
from trainer_tools.dev_backend.roles import event_for
from trainer_tools.dev_backend.store import Decision, IdempotencyKeyReused, Store, StoredAnswer

__all__ = ["IDEMPOTENCY_HEADER", "OPENAPI_PATH", "TIMELINE_PATH", "create_app"]

OPENAPI_PATH = "/openapi.json"
# The timeline is the reference backend's own read API, not part of the trainer contract.
TIMELINE_PATH = "/jobs/{job_id}/timeline"
HEALTH_PATH = "/healthz"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_BODY_BYTES = 8 * 1024 * 1024
_log = logging.getLogger(__name__)
_TEMPLATE_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_JSON_TYPES = re.compile(r"^application/([a-z0-9.+-]+\+)?json$")


@dataclass(frozen=True)
class _Route:
    """An endpoint with what the app precomputes for it."""

    endpoint: Endpoint
    path_params: tuple[str, ...]
    param_validators: dict[str, Any]  # path parameter -> compiled schema
    header_validator: Any | None
    header_schema: str  # the Idempotency-Key header's schema, as JSON, for messages


def _operation(document: dict[str, Any], endpoint: Endpoint) -> dict[str, Any]:
    operation: dict[str, Any] = document["paths"][endpoint.path][endpoint.method.lower()]
    return operation


def _routes(document: dict[str, Any]) -> list[_Route]:
    routes = []
    for endpoint in ENDPOINTS.values():
        params = {
            p["name"]: p
            for p in _operation(document, endpoint).get("parameters", [])
            if "name" in p
        }
        names = tuple(_TEMPLATE_PARAM.findall(endpoint.path))
        header = params.get(IDEMPOTENCY_HEADER)
        routes.append(
            _Route(
                endpoint=endpoint,
                path_params=names,
                param_validators={
                    n: jsonschema_rs.validator_for(params[n]["schema"])
                    for n in names
                    if n in params and "schema" in params[n]
                },
                header_validator=(
                    jsonschema_rs.validator_for(header["schema"])
                    if header and "schema" in header
                    else None
                ),
                header_schema=json.dumps(header.get("schema")) if header else "",
            )
        )
    return routes


def _fingerprint(method: str, path: str, raw: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), b"\0", path.encode(), b"\0", raw):
        digest.update(part)
    return digest.hexdigest()


def _strict_json(raw: bytes) -> Any:
    def refuse(constant: str) -> Any:
        raise ValueError(f"{constant} is not JSON (send null, or a finite number)")

    return json.loads(raw, parse_constant=refuse)


def _match(bodies: tuple[str, ...], body: Any) -> tuple[str, list[SchemaError]]:
    """The body schema `body` matches (no errors), or the closest one with its errors."""
    best: tuple[str, list[SchemaError]] | None = None
    for name in bodies:
        errors = validator(name).errors(body)
        if not errors:
            return name, []
        if best is None or len(errors) < len(best[1]):
            best = (name, errors)
    assert best is not None  # every endpoint has at least one body (schema: minItems 1)
    return best


def _accepted(message: str, state: JobState) -> dict[str, Any]:
    answer: CallbackResponse = {
        "success": True,
        "message": message,
        "job_status": state.phase.value,
    }
    return dict(answer)


def _accept_message(kind: EventKind, state: JobState, endpoint: Endpoint) -> str:
    if kind in (EventKind.PROGRESS, EventKind.STARTED) and state.last_epoch is not None:
        return f"{endpoint.summary} Recorded epoch {state.last_epoch}/{state.total_epochs}."
    if kind in (EventKind.COMPLETED, EventKind.FAILED):
        return f"{endpoint.summary} Job {state.phase}."
    return f"{endpoint.summary} Recorded."


class _BearerAuth(BaseHTTPMiddleware):
    """401 for callback and timeline requests without the bearer token (constant-time compare)."""

    def __init__(self, app: Any, token: str, public: frozenset[str]) -> None:
        super().__init__(app)
        self._expected = f"Bearer {token}".encode()
        self._public = public

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        """Pass public paths and requests with the token; answer 401 to the others."""
        if request.url.path in self._public or (
            request.method == "GET"
            and is_page(request.url.path)
            and getattr(request.app.state, "public_pages", False)
        ):
            return await call_next(request)
        given = request.headers.get("authorization", "").encode()
        if hmac.compare_digest(given, self._expected):
            return await call_next(request)
        reason = "no Authorization header" if not given else "the bearer token does not match"
        return ProblemResponse(
            problem(
                401,
                f"{reason}; send `Authorization: Bearer <token>` with the backend's token "
                "(the SDK sends CALLBACK_TOKEN)",
                kind="unauthorized",
                instance=request.url.path,
            ),
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="trainer-callbacks"'},
        )


def _not_found(path: str, name: str, raw_value: str) -> ProblemResponse:
    return ProblemResponse(
        problem(
            404,
            f"no job {raw_value!r}: the {name} path parameter must be a non-negative integer "
            "(the value of JOB_ID)",
            kind="not-found",
            instance=path,
        ),
        status_code=404,
    )


def _path_values(route: _Route, request: Request) -> dict[str, int] | ProblemResponse:
    """The path parameters as integers, or a 404 when one is not a valid job id."""
    values: dict[str, int] = {}
    for name in route.path_params:
        raw_value = str(request.path_params.get(name, ""))
        number = _as_int(raw_value)
        check = route.param_validators.get(name)
        if number is None or (check is not None and not check.is_valid(number)):
            return _not_found(request.url.path, name, raw_value)
        values[name] = number
    return values


def _transport_problem(route: _Route, request: Request, raw: bytes) -> ProblemResponse | None:
    """A problem with the request's envelope (key header, media type, size), or None."""
    path = request.url.path
    key = request.headers.get(IDEMPOTENCY_HEADER)
    checker = route.header_validator
    if key is not None and checker is not None and not checker.is_valid(key):
        return _unprocessable(
            path,
            f"the {IDEMPOTENCY_HEADER} header breaks its schema {route.header_schema}; send one "
            "key per callback and the same key on every retry of it",
            [{"path": f"header:{IDEMPOTENCY_HEADER}", "message": "does not match its schema"}],
            kind="invalid-idempotency-key",
        )
    media = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if not _JSON_TYPES.match(media):
        return ProblemResponse(
            problem(
                415,
                f"the body must be JSON (Content-Type: application/json), not {media!r}",
                kind="unsupported-media-type",
                instance=path,
            ),
            status_code=415,
        )
    if len(raw) > MAX_BODY_BYTES:
        return ProblemResponse(
            problem(
                413,
                f"the body has {len(raw)} bytes, more than the {MAX_BODY_BYTES} allowed; send "
                "large results to S3 and report their URIs",
                kind="too-large",
                instance=path,
            ),
            status_code=413,
        )
    return None


def _parse(raw: bytes) -> tuple[Any, str | None]:
    """The JSON body and None, or the raw text (kept for the record) and the parse error."""
    try:
        return _strict_json(raw), None
    except (ValueError, UnicodeDecodeError) as exc:
        return raw.decode("utf-8", errors="replace"), str(exc)


def _log_answer(endpoint: Endpoint, values: dict[str, int], answer: StoredAnswer) -> None:
    """One line per callback for whoever watches the server: what came, what it got, and why."""
    if not _log.isEnabledFor(logging.INFO):
        return
    job = next(iter(values.values()), None)
    what = (
        "replayed" if answer.replayed else ("accepted" if answer.status_code < 400 else "REFUSED")
    )
    reason = ""
    if answer.status_code >= 400:
        errors = answer.response.get("errors") or []
        first = errors[0] if errors and isinstance(errors[0], dict) else {}
        reason = (
            f": {first.get('path', '$')} {first.get('message', answer.response.get('detail', ''))}"
        )
        if len(errors) > 1:
            reason += f" (+{len(errors) - 1} more)"
    _log.info(
        "#%d job %s %s -> %d %s%s", answer.seq, job, endpoint.name, answer.status_code, what, reason
    )


def _receiver(route: _Route, store: Store) -> Callable[[Request], Awaitable[Response]]:
    """The request handler of one callback endpoint."""
    endpoint = route.endpoint

    async def receive(request: Request) -> Response:
        """Check the envelope, then validate, apply the lifecycle and record in one transaction."""
        path = request.url.path
        values = _path_values(route, request)
        if isinstance(values, ProblemResponse):
            return values
        raw = await request.body()
        refused = _transport_problem(route, request, raw)
        if refused is not None:
            return refused
        body, parse_error = _parse(raw)

        def decide(state: JobState, seq: int) -> Decision:
            return _decide(route, values, body, parse_error, state, seq, path)

        try:
            answer = await run_in_threadpool(
                store.record,
                job_id=next(iter(values.values()), 0),
                scope=endpoint.operation,
                endpoint=endpoint.name,
                method=endpoint.method,
                path=path,
                idempotency_key=request.headers.get(IDEMPOTENCY_HEADER),
                fingerprint=_fingerprint(endpoint.method, path, raw),
                body=body,
                decide=decide,
            )
        except IdempotencyKeyReused as exc:
            return _unprocessable(
                path,
                f"{IDEMPOTENCY_HEADER} {exc.key!r} was already used for a different request "
                f"(timeline #{exc.first_seq}); use a new key for each callback and the same key "
                "only for retries of the same one",
                [],
                kind="idempotency-key-reused",
            )
        _log_answer(endpoint, values, answer)
        headers = {REPLAYED_HEADER: "true"} if answer.replayed else {}
        response_class = JSONResponse if answer.status_code < 400 else ProblemResponse
        return response_class(answer.response, status_code=answer.status_code, headers=headers)

    return receive


def create_app(store: Store, *, token: str | None = None, public_pages: bool = False) -> Starlette:
    """Build the reference backend over `store`; with `token`, require `Authorization: Bearer`
    (with `public_pages`, not for the read-only report pages `/` and `/jobs/{id}`)."""
    document = load_openapi()

    async def openapi(request: Request) -> Response:
        """The contract's OpenAPI document, as generated."""
        return JSONResponse(document)

    async def health(request: Request) -> Response:
        """Liveness, for scripts that wait for the server."""
        return JSONResponse({"status": "ok"})

    async def timeline(request: Request) -> Response:
        """Everything recorded for one job, in order, with its lifecycle state per operation."""
        raw_value = str(request.path_params.get("job_id", ""))
        job_id = _as_int(raw_value)
        if job_id is None:
            return _not_found(request.url.path, "job_id", raw_value)
        entries, states = await run_in_threadpool(
            lambda: (store.timeline(job_id), store.job_states(job_id))
        )
        return JSONResponse(
            {
                "job_id": job_id,
                "states": {scope: state.to_json() for scope, state in states.items()},
                "callbacks": [entry.to_json() for entry in entries],
            }
        )

    async def http_error(request: Request, exc: Exception) -> Response:
        """Routing errors (and, never expected, crashes) as problem documents."""
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        where = f"{request.method} {request.url.path}"
        if status == 404:
            detail = f"no such endpoint: {where}; the endpoints are listed in {OPENAPI_PATH}"
        elif status == 405:
            detail = f"{where}: method not allowed; the endpoints are listed in {OPENAPI_PATH}"
        else:
            detail = "internal error"
        # Keep the exception's headers: a 405 must list the allowed methods (`Allow`).
        headers = dict(exc.headers or {}) if isinstance(exc, HTTPException) else None
        return ProblemResponse(
            problem(status, detail, instance=request.url.path), status_code=status, headers=headers
        )

    routes = [
        Route(
            r.endpoint.path, _receiver(r, store), methods=[r.endpoint.method], name=r.endpoint.name
        )
        for r in _routes(document)
    ]
    routes += [
        Route(OPENAPI_PATH, openapi, methods=["GET"]),
        Route(HEALTH_PATH, health, methods=["GET"]),
        Route(TIMELINE_PATH, timeline, methods=["GET"]),
        *page_routes(store),
    ]
    middleware = (
        [Middleware(_BearerAuth, token=token, public=frozenset({OPENAPI_PATH, HEALTH_PATH}))]
        if token
        else []
    )
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={HTTPException: http_error, Exception: http_error},
    )
    app.state.store = store
    app.state.public_pages = public_pages
    return app


def _as_int(value: str) -> int | None:
    return int(value) if value.isascii() and value.isdigit() else None


def _unprocessable(
    path: str, detail: str, errors: list[dict[str, str]], *, kind: str
) -> ProblemResponse:
    return ProblemResponse(
        problem(422, detail, kind=kind, instance=path, errors=errors), status_code=422
    )


def _decide(
    route: _Route,
    values: dict[str, int],
    body: Any,
    parse_error: str | None,
    state: JobState,
    seq: int,
    path: str,
) -> Decision:
    """Validate, apply the lifecycle, and build the answer (runs inside the store transaction)."""
    endpoint = route.endpoint
    if parse_error is not None:
        return _problem_decision(
            422,
            f"the body is not valid JSON ({parse_error}); send a JSON object",
            path,
            [{"path": "$", "message": parse_error, "keyword": "json"}],
            kind="invalid-json",
        )
    schema, errors = _match(endpoint.bodies, body)
    found = schema_errors(errors)
    # A body field named like a path parameter must agree with the URL (the job id).
    if isinstance(body, dict):
        for name, value in values.items():
            if name in body and isinstance(body[name], int) and body[name] != value:
                found.append(
                    {
                        "path": f"$.{name}",
                        "message": f"{body[name]} differs from {name} {value} in the URL",
                        "keyword": "path-parameter",
                    }
                )
    if found:
        shown = " or ".join(endpoint.bodies)
        return _problem_decision(
            422,
            f"the body does not match {shown}: {len(found)} error(s); fix every listed path",
            path,
            found,
            kind="invalid-body",
            extra={"schema": schema},
            schema=schema,
        )
    event = event_for(schema, body)
    try:
        new_state = advance(state, event, seq)
    except LifecycleConflict as conflict:
        return _problem_decision(
            conflict.status,
            conflict.reason,
            path,
            [{"path": conflict.path, "message": conflict.reason, "keyword": "lifecycle"}],
            kind="lifecycle-conflict" if conflict.status == 409 else "invalid-body",
            extra={"job_status": state.phase.value},
            schema=schema,
        )
    message = _accept_message(event.kind, new_state, endpoint)
    return Decision(200, "application/json", _accepted(message, new_state), new_state, schema)


def _problem_decision(
    status: int,
    detail: str,
    path: str,
    errors: list[dict[str, str]],
    *,
    kind: str,
    extra: dict[str, Any] | None = None,
    schema: str | None = None,
) -> Decision:
    return Decision(
        status,
        "application/problem+json",
        problem(status, detail, kind=kind, instance=path, errors=errors, extra=extra),
        schema=schema,
    )
