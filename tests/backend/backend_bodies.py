"""Contract-derived bodies and a test client for the backend tests (imported by name)."""

from __future__ import annotations

import copy
import warnings
from typing import Any

with warnings.catch_warnings():
    # Starlette 1.x suggests httpx2 for its test client; httpx works the same here.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient
from trainer_contract.callbacks import ENDPOINTS, Endpoint
from trainer_contract.lint_rules import LIFECYCLE_METHODS, TRAINING_OPERATION
from trainer_contract.openapi import load as load_openapi
from trainer_contract.sdk_api import SDK_METHODS
from trainer_tools.contract_check.bodies import ExampleBody, example_bodies
from trainer_tools.contract_check.scenarios import Prober
from trainer_tools.dev_backend import Store, create_app
from trainer_tools.dev_backend.roles import with_epoch

DOCUMENT = load_openapi()


def training_endpoint(schema: str) -> Endpoint:
    """The training endpoint that accepts `schema`."""
    return next(
        e for e in ENDPOINTS.values() if schema in e.bodies and e.operation == TRAINING_OPERATION
    )


def example_for(schema: str) -> ExampleBody:
    """The first contract example of `schema`."""
    endpoint = training_endpoint(schema)
    return next(x for x in example_bodies(DOCUMENT, endpoint) if x.schema == schema)


PROGRESS_SCHEMA = SDK_METHODS[LIFECYCLE_METHODS.progress].sends[0]
COMPLETED_SCHEMA = SDK_METHODS[LIFECYCLE_METHODS.completed].sends[0]
FAILED_SCHEMA = SDK_METHODS[LIFECYCLE_METHODS.failed].sends[0]
PROGRESS = training_endpoint(PROGRESS_SCHEMA)
COMPLETION = training_endpoint(COMPLETED_SCHEMA)


def progress_body(job_id: int, epoch: int) -> dict[str, Any]:
    """A valid progress body of `job_id` at `epoch` (from the contract's example)."""
    body = with_epoch(copy.deepcopy(example_for(PROGRESS_SCHEMA).body), epoch)
    return dict(Prober.for_job(PROGRESS, body, job_id))


def completed_body(job_id: int) -> dict[str, Any]:
    """A valid completion body of `job_id`."""
    return dict(
        Prober.for_job(COMPLETION, copy.deepcopy(example_for(COMPLETED_SCHEMA).body), job_id)
    )


def failed_body(job_id: int) -> dict[str, Any]:
    """A valid failure body of `job_id`."""
    return dict(Prober.for_job(COMPLETION, copy.deepcopy(example_for(FAILED_SCHEMA).body), job_id))


def url(endpoint: Endpoint, job_id: int) -> str:
    """The endpoint's path for a job."""
    return endpoint.path.format(job_id=job_id)


def make_client(store: Store, token: str | None = None) -> TestClient:
    """Starlette's test client over the reference backend."""
    return TestClient(create_app(store, token=token))
