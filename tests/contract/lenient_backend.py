"""A backend that breaks the contract on purpose, to prove the checks catch it.

It accepts every POST with 200 and a well-formed answer, whatever the body, the state of the job
or the Idempotency-Key: the typical hand-written stub. Imported by name from the contract tests.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from trainer_contract.callbacks import ENDPOINTS


async def accept_anything(request: Request) -> Response:
    await request.body()
    return JSONResponse({"success": True, "message": "ok", "job_status": None})


def lenient_app() -> Starlette:
    """Every callback route of the contract, each accepting anything."""
    return Starlette(
        routes=[Route(e.path, accept_anything, methods=[e.method]) for e in ENDPOINTS.values()]
    )
