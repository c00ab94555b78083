"""schemathesis against the reference backend, in process (ASGI): the provider side of the contract.

Every operation of the generated OpenAPI document gets generated valid and invalid requests; the
default schemathesis checks run on every answer: no 5xx, documented status codes, media types and
headers, answers matching their schemas, invalid data rejected (4xx), valid data accepted.
`reconcile` keeps the two cross-field rules a JSON Schema cannot state (the body's job id is the
URL's; an Idempotency-Key is never reused for another request) on the generated valid requests.
"""

from __future__ import annotations

import warnings
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings

from trainer_tools.contract_check import reconcile
from trainer_tools.dev_backend import OPENAPI_PATH, Store, create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette 1.x suggests httpx2 for in-process calls
    APP = create_app(Store(":memory:"))
    SCHEMA = schemathesis.openapi.from_asgi(OPENAPI_PATH, APP)


@SCHEMA.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_reference_backend_conforms(case: Any) -> None:
    reconcile(case)
    case.call_and_validate()
