"""A backend shaped like the platform's own (its behaviour as measured, not its code).

What it imitates, each a fact the verify-backend report must sort correctly:

- routes under `/api/v1`, the inference and export ids named `{inference_job_id}` /
  `{export_job_id}`, and its OpenAPI document served at `/api/v1/openapi.json`;
- FastAPI errors: `{"detail": ...}` as `application/json` (422 for a bad body, 404 for a job it
  does not know), never problem+json (a contract difference);
- no lifecycle rules and no idempotency: everything valid is stored, and a progress report after
  the completion puts the job back to `running` (a lost update: a defect);
- a column of 10 characters for a log's `event_type`, which PostgreSQL refuses: HTTP 500 (a defect).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

PREFIX = "/api/v1"
LOG_TYPE_COLUMN = 10
_REQUIRED = {
    "progress": ("job_id", "status", "current_epoch", "total_epochs"),
    "completion": ("job_id", "status", "total_epochs_completed"),
    "logs": ("job_id", "event_type", "message"),
    "results": ("job_id", "epoch", "task_type"),
}


def platform_like_app(known_jobs: set[int]) -> Starlette:
    """The app; only the jobs in `known_jobs` exist (any other id gets 404)."""
    status: dict[int, str] = {}

    async def callback(request: Request) -> Response:
        raw = await request.body()
        job_id = int(next(iter(request.path_params.values())))
        try:
            body: Any = json.loads(raw)
        except ValueError:
            return JSONResponse({"detail": [{"loc": ["body", 0], "msg": "JSON decode error"}]}, 422)
        kind = request.url.path.rsplit("/", 1)[-1]
        missing = [
            f for f in _REQUIRED.get(kind, ()) if not isinstance(body, dict) or f not in body
        ]
        if missing:
            detail = [{"loc": ["body", f], "msg": "Field required"} for f in missing]
            return JSONResponse({"detail": detail}, 422)
        if job_id not in known_jobs:
            return JSONResponse({"detail": "Training job not found"}, 404)
        if kind == "logs" and len(str(body["event_type"])) > LOG_TYPE_COLUMN:
            return JSONResponse({"detail": "value too long for type character varying(10)"}, 500)
        if kind == "progress":
            status[job_id] = str(body["status"])
        elif kind == "completion":
            status[job_id] = "completed" if body.get("exit_code") == 0 else "failed"
        answer = {"success": True, "message": "ok", "job_status": status.get(job_id)}
        return JSONResponse(answer)

    paths = [
        "/training/jobs/{job_id}/callback/progress",
        "/training/jobs/{job_id}/callback/completion",
        "/training/jobs/{job_id}/callback/logs",
        "/validation/jobs/{job_id}/results",
        "/test_inference/inference/jobs/{inference_job_id}/callback/started",
        "/test_inference/inference/jobs/{inference_job_id}/callback/completion",
        "/export/jobs/{export_job_id}/callback/started",
        "/export/jobs/{export_job_id}/callback/completion",
    ]
    document = {
        "openapi": "3.1.0",
        "info": {"title": "platform-like", "version": "0.1.0"},
        "paths": {PREFIX + p: {"post": {"responses": {"200": {}}}} for p in paths},
    }

    async def openapi(request: Request) -> Response:
        return JSONResponse(document)

    routes = [Route(PREFIX + p, callback, methods=["POST"]) for p in paths]
    routes.append(Route(PREFIX + "/openapi.json", openapi, methods=["GET"]))
    return Starlette(routes=routes)
