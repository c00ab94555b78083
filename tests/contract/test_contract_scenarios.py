"""The scripted conformance checks: the reference backend passes all, a lenient one fails the
right ones. Both run in process through Starlette's test client (an httpx client)."""

from __future__ import annotations

import warnings

from lenient_backend import lenient_app

from trainer_contract.openapi import load as load_openapi
from trainer_tools.contract_check import Prober, Report, run_scenarios
from trainer_tools.dev_backend import Store, create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette 1.x suggests httpx2 for its test client
    from starlette.testclient import TestClient

DOCUMENT = load_openapi()


def scenarios(app: object, token: str | None = None) -> Report:
    with TestClient(app) as client:  # type: ignore[arg-type]
        probe = Prober(client, DOCUMENT, token=token, first_job_id=1000)
        return run_scenarios(probe, Report("in-process"))


def test_the_reference_backend_passes_every_scripted_check() -> None:
    report = scenarios(create_app(Store(":memory:"), token="tok"), token="tok")
    assert report.ok, report.format()
    names = [r.name for r in report.results]
    assert names == [
        "openapi-document-matches",
        "valid-examples-accepted",
        "invalid-bodies-rejected",
        "malformed-json-rejected",
        "lifecycle-enforced",
        "idempotency-key-honoured",
        "bearer-token-required",
    ]
    # Every check really exercised the backend.
    assert all(r.requests > 0 for r in report.results)


def test_a_backend_that_accepts_anything_fails_the_checks_that_matter() -> None:
    report = scenarios(lenient_app())
    verdicts = {r.name: r.ok for r in report.results}
    assert verdicts == {
        "openapi-document-matches": True,  # it serves none: optional
        "valid-examples-accepted": True,
        "invalid-bodies-rejected": False,
        "malformed-json-rejected": False,
        "lifecycle-enforced": False,
        "idempotency-key-honoured": False,
    }
    lifecycle = next(r for r in report.results if r.name == "lifecycle-enforced")
    assert any(
        "progress after the completion: expected 409, got 200" in f for f in lifecycle.failures
    )
    text = report.format()
    assert "FAIL: 2 of 6 checks passed" in text


def test_the_scripted_checks_catch_a_backend_that_ignores_the_token() -> None:
    # The reference backend without a token, probed as if one were required.
    report = scenarios(create_app(Store(":memory:")), token="expected-token")
    auth = next(r for r in report.results if r.name == "bearer-token-required")
    assert not auth.ok
    assert "expected 401, got 200" in auth.failures[0]


def test_a_backend_serving_another_contract_is_told_what_differs() -> None:
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def old_document(request: object) -> JSONResponse:
        return JSONResponse({"openapi": "3.1.0", "info": {"version": "0.9"}, "paths": {}})

    app = Starlette(routes=[*lenient_app().routes, Route("/openapi.json", old_document)])
    report = scenarios(app)
    served = report.results[0]
    assert served.name == "openapi-document-matches" and not served.ok
    assert any("lacks POST /training/jobs/{job_id}/callback/progress" in f for f in served.failures)
    assert any("version '0.9'" in f for f in served.failures)
