"""One answer against the OpenAPI document: status, media type, schema."""

from __future__ import annotations

import json

from trainer_contract.callbacks import ENDPOINTS
from trainer_contract.openapi import load as load_openapi
from trainer_tools.contract_check.conformance import response_failures

DOCUMENT = load_openapi()
ENDPOINT = next(iter(ENDPOINTS.values()))
JSON = "application/json"
PROBLEM = "application/problem+json"


def failures(status: int, media: str, body: object) -> list[str]:
    return response_failures(DOCUMENT, ENDPOINT, status, media, json.dumps(body))


def test_a_documented_answer_conforms() -> None:
    assert failures(200, JSON, {"success": True, "message": "ok", "job_status": None}) == []
    assert failures(409, PROBLEM, {"title": "Conflict", "status": 409}) == []


def test_server_errors_undocumented_codes_wrong_media_and_bad_bodies_are_reported() -> None:
    [server] = failures(500, JSON, {})
    assert "server error" in server
    [undocumented] = failures(418, PROBLEM, {"title": "t", "status": 418})
    assert "not documented" in undocumented
    [media] = failures(422, JSON, {"title": "t", "status": 422})
    assert "Content-Type 'application/json'" in media
    [schema] = failures(200, JSON, {"success": "yes"})
    assert "$.success" in schema and "$.message" in schema
    [not_json] = response_failures(DOCUMENT, ENDPOINT, 200, JSON, "<html>")
    assert "not JSON" in not_json
