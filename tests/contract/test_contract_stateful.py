"""schemathesis stateful testing: sequences of callbacks for one job, in process (ASGI).

The contract's OpenAPI document has no `links` (callbacks answer nothing a next call needs), so
this test adds them locally: every 2xx of an operation links to every operation of the same job
kind (training, inference, export) with the same `job_id`. schemathesis then drives sequences
such as started -> progress -> completed -> progress, and checks every answer as usual (a
refused step must be a documented 4xx with a conforming problem, never a 5xx).
"""

from __future__ import annotations

import copy
import warnings
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings

from trainer_contract.callbacks import ENDPOINTS
from trainer_contract.openapi import load as load_openapi
from trainer_tools.contract_check import reconcile
from trainer_tools.dev_backend import Store, create_app


def linked_document() -> dict[str, Any]:
    """The contract's document with job-preserving links between operations of one job kind."""
    document = load_openapi()
    for source in ENDPOINTS.values():
        operation = document["paths"][source.path][source.method.lower()]
        links = {
            f"same_job_{target.name}": {
                "operationId": target.operation_id,
                "parameters": {"job_id": "$request.path.job_id"},
            }
            for target in ENDPOINTS.values()
            if target.operation == source.operation
        }
        for status, response in operation["responses"].items():
            if status.startswith("2"):
                response["links"] = links
    return document


class FreshBackend:
    """An ASGI app that forwards to a reference backend which `reset()` replaces by a new one."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.app = create_app(Store(":memory:"))

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


BACKEND = FreshBackend()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette 1.x suggests httpx2 for in-process calls
    SCHEMA = schemathesis.openapi.from_dict(linked_document())
    SCHEMA.app = BACKEND


class CallbackSequences(SCHEMA.as_state_machine()):  # type: ignore[misc]
    """Each step is a generated callback; `reconcile` keeps the client's cross-field duties."""

    def setup(self) -> None:
        # A fresh backend per sequence: hypothesis replays sequences while shrinking, and a
        # job completed by an earlier sequence would answer differently the second time.
        BACKEND.reset()
        super().setup()

    def before_call(self, case: Any) -> None:
        # Generated values may be shared with what hypothesis replays: change copies only.
        case.body = copy.deepcopy(case.body)
        case.headers = dict(case.headers or {})
        reconcile(case)
        super().before_call(case)


TestCallbackSequences = CallbackSequences.TestCase
TestCallbackSequences.settings = settings(
    max_examples=15,
    stateful_step_count=6,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
