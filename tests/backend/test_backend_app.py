"""The reference backend over its ASGI interface: routes, validation, lifecycle, idempotency, auth."""

from __future__ import annotations

import json
import re
from pathlib import Path

from backend_bodies import (
    COMPLETION,
    DOCUMENT,
    PROGRESS,
    TestClient,
    completed_body,
    failed_body,
    make_client,
    progress_body,
    url,
)

from trainer_contract.callbacks import ENDPOINTS, ERROR_RESPONSE_SCHEMA
from trainer_contract.validators import validator
from trainer_tools.dev_backend import OPENAPI_PATH, TIMELINE_PATH, Store

PROBLEM = "application/problem+json"


def timeline(client: TestClient, job_id: int) -> dict:  # type: ignore[type-arg]
    response = client.get(TIMELINE_PATH.format(job_id=job_id))
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


def assert_problem(response, status: int) -> dict:  # type: ignore[no-untyped-def,type-arg]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert validator(ERROR_RESPONSE_SCHEMA).errors(body) == []
    assert body["status"] == status
    return body  # type: ignore[no-any-return]


def test_it_serves_the_generated_openapi_document(client: TestClient) -> None:
    assert client.get(OPENAPI_PATH).json() == DOCUMENT


def test_every_endpoint_of_the_contract_is_routed(client: TestClient) -> None:
    for endpoint in ENDPOINTS.values():
        # An empty object is invalid for every body: 422 proves the route exists and validates.
        response = client.request(endpoint.method, url(endpoint, 3), json={})
        body = assert_problem(response, 422)
        assert body["errors"], endpoint.name
        # Other methods on the same path are not allowed, and say so as a problem.
        assert_problem(client.get(url(endpoint, 3)), 405)


def test_a_valid_callback_gets_the_documented_answer(client: TestClient) -> None:
    response = client.post(url(PROGRESS, 1), json=progress_body(1, 0))
    assert response.status_code == 200
    answer = response.json()
    assert validator(PROGRESS.response).errors(answer) == []
    assert answer["job_status"] == "running"


def test_an_invalid_body_gets_422_listing_every_failing_path(client: TestClient) -> None:
    body = progress_body(1, 0)
    first, second = list(body)[:2]
    body[first] = {"wrong": "type"}
    del body[second]
    problem = assert_problem(client.post(url(PROGRESS, 1), json=body), 422)
    paths = {e["path"] for e in problem["errors"]}
    assert {f"$.{first}", f"$.{second}"} <= paths
    assert problem["instance"] == url(PROGRESS, 1)
    # A rejected callback is part of the record, with the answer it got.
    [entry] = timeline(client, 1)["callbacks"]
    assert (entry["status_code"], entry["accepted"]) == (422, False)


def test_the_body_job_id_must_be_the_url_job_id(client: TestClient) -> None:
    problem = assert_problem(client.post(url(PROGRESS, 1), json=progress_body(2, 0)), 422)
    param = re.findall(r"\{(\w+)\}", PROGRESS.path)[0]
    assert f"$.{param}" in {e["path"] for e in problem["errors"]}


def test_the_lifecycle_is_enforced_with_reasons(client: TestClient) -> None:
    job = 5
    for epoch in (0, 1, 2):
        assert client.post(url(PROGRESS, job), json=progress_body(job, epoch)).status_code == 200
    backwards = assert_problem(client.post(url(PROGRESS, job), json=progress_body(job, 1)), 409)
    assert "backwards" in backwards["detail"]
    assert client.post(url(COMPLETION, job), json=completed_body(job)).status_code == 200
    after = assert_problem(client.post(url(PROGRESS, job), json=progress_body(job, 3)), 409)
    assert "#5" in after["detail"]  # the completion that ended the job
    assert_problem(client.post(url(COMPLETION, job), json=completed_body(job)), 409)
    assert_problem(client.post(url(COMPLETION, job), json=failed_body(job)), 409)
    record = timeline(client, job)
    assert [c["status_code"] for c in record["callbacks"]] == [
        200,
        200,
        200,
        409,
        200,
        409,
        409,
        409,
    ]
    assert record["states"]["training"]["phase"] == "completed"


def test_jobs_are_independent(client: TestClient) -> None:
    assert client.post(url(COMPLETION, 1), json=failed_body(1)).status_code == 200
    assert client.post(url(PROGRESS, 2), json=progress_body(2, 0)).status_code == 200


def test_a_repeat_with_the_same_idempotency_key_gets_the_first_answer(client: TestClient) -> None:
    headers = {"Idempotency-Key": "abc-1"}
    first = client.post(url(PROGRESS, 1), json=progress_body(1, 1), headers=headers)
    second = client.post(url(PROGRESS, 1), json=progress_body(1, 1), headers=headers)
    assert first.status_code == second.status_code == 200
    assert second.content == first.content
    assert second.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    [entry] = timeline(client, 1)["callbacks"]
    assert entry["replays"] == 1


def test_a_reused_idempotency_key_with_another_body_is_refused(client: TestClient) -> None:
    headers = {"Idempotency-Key": "abc-2"}
    client.post(url(PROGRESS, 1), json=progress_body(1, 1), headers=headers)
    problem = assert_problem(
        client.post(url(PROGRESS, 1), json=progress_body(1, 2), headers=headers), 422
    )
    assert "abc-2" in problem["detail"]
    assert len(timeline(client, 1)["callbacks"]) == 1


def test_an_overlong_idempotency_key_is_refused(client: TestClient) -> None:
    headers = {"Idempotency-Key": "k" * 201}
    assert_problem(client.post(url(PROGRESS, 1), json=progress_body(1, 1), headers=headers), 422)


def test_bodies_that_are_not_json_are_refused(client: TestClient) -> None:
    problem = assert_problem(client.post(url(PROGRESS, 1), content=b'{"job_id": 1,'), 422)
    assert problem["errors"][0]["path"] == "$"
    nan = json.dumps(progress_body(1, 1)).replace("}", ', "x": NaN}', 1).encode()
    assert_problem(client.post(url(PROGRESS, 1), content=nan), 422)
    assert_problem(
        client.post(url(PROGRESS, 1), content=b"x", headers={"content-type": "text/plain"}), 415
    )
    assert_problem(client.post(url(PROGRESS, 1), content=b" " * (9 * 1024 * 1024)), 413)


def test_a_job_id_that_is_not_a_non_negative_integer_is_not_found(client: TestClient) -> None:
    for job in ("abc", "-1", "1.5"):
        path = PROGRESS.path.replace("{job_id}", job)
        assert_problem(client.post(path, json=progress_body(1, 0)), 404)


def test_with_a_token_callbacks_need_it_and_the_document_does_not(store: Store) -> None:
    with make_client(store, token="s3cret-token") as client:
        missing = client.post(url(PROGRESS, 1), json=progress_body(1, 0))
        assert_problem(missing, 401)
        assert missing.headers["www-authenticate"].startswith("Bearer")
        assert "s3cret-token" not in missing.text
        wrong = {"Authorization": "Bearer nope"}
        assert_problem(client.post(url(PROGRESS, 1), json=progress_body(1, 0), headers=wrong), 401)
        assert_problem(client.get(TIMELINE_PATH.format(job_id=1)), 401)
        right = {"Authorization": "Bearer s3cret-token"}
        assert client.post(url(PROGRESS, 1), json=progress_body(1, 0), headers=right).is_success
        assert client.get(OPENAPI_PATH).status_code == 200
    assert store.count() == 1  # unauthenticated requests are not recorded


def test_the_record_survives_a_restart_of_the_backend(tmp_path: Path) -> None:
    path = tmp_path / "backend.sqlite3"
    first = Store(path)
    with make_client(first) as client:
        assert client.post(url(COMPLETION, 9), json=completed_body(9)).status_code == 200
    first.close()
    second = Store(path)
    with make_client(second) as client:
        assert_problem(client.post(url(PROGRESS, 9), json=progress_body(9, 1)), 409)
        assert len(timeline(client, 9)["callbacks"]) == 2
    second.close()


def test_the_idempotency_header_is_the_one_the_document_declares() -> None:
    from trainer_tools.dev_backend.app import IDEMPOTENCY_HEADER

    for endpoint in ENDPOINTS.values():
        operation = DOCUMENT["paths"][endpoint.path][endpoint.method.lower()]
        headers = [p["name"] for p in operation["parameters"] if p["in"] == "header"]
        assert IDEMPOTENCY_HEADER in headers, endpoint.name
