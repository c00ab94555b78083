"""Scripted checks of a backend over HTTP: what a trainer relies on, request by request.

Each check sends callbacks built from the contract's examples (`bodies`) for jobs of its own, and
checks every answer's conformance (`conformance`) on top of its own expectation:

- `valid-examples-accepted`: every schema example of every endpoint gets 2xx;
- `invalid-bodies-rejected`: one-fault variants get 4xx with a problem listing the broken path;
- `malformed-json-rejected`: a body that is not JSON gets 4xx;
- `lifecycle-enforced`: started -> progress -> completed is accepted, then progress or a second
  completion gets 409, and an epoch going backwards gets 409 (per operation: training, inference,
  export);
- `idempotency-key-honoured`: a repeat with the same `Idempotency-Key` gets the same answer; the
  same key with a different body is refused;
- `bearer-token-required` (with a token): no token or a wrong one gets 401;
- `openapi-document-matches`: a document served at `/openapi.json` (optional) has every
  operation of the contract and its version.

The client is any `httpx.Client` (a real one for `verify-backend`, Starlette's `TestClient` in
the in-process tests), so both run exactly the same checks.
"""

from __future__ import annotations

import itertools
import json
import re
import secrets
from collections.abc import Iterator
from typing import Any

import httpx

from trainer_contract.callbacks import ENDPOINTS, Endpoint
from trainer_tools.contract_check.bodies import (
    ExampleBody,
    broken_bodies,
    example_bodies,
)
from trainer_tools.contract_check.conformance import response_failures
from trainer_tools.contract_check.report import DEFECT, DIFFERENCE, NOT_CHECKED, CheckResult, Report
from trainer_tools.dev_backend.app import IDEMPOTENCY_HEADER, OPENAPI_PATH
from trainer_tools.dev_backend.lifecycle import EventKind
from trainer_tools.dev_backend.roles import body_roles, event_for, with_epoch

__all__ = ["Prober", "normalized_path", "run_scenarios"]

_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
# What FastAPI/Starlette answer for a path no route serves (as opposed to an unknown job).
_NO_ROUTE_BODIES: tuple[object, ...] = ({"detail": "Not Found"}, "Not Found")


def normalized_path(path: str) -> str:
    """A path with every parameter name blanked: the platform names the id `{export_job_id}` or
    `{inference_job_id}` where the contract says `{job_id}`; both are the same route."""
    return _PARAM.sub("{}", path)


class Prober:
    """Sends callbacks for fresh job ids and records conformance failures in a check result."""

    def __init__(
        self,
        client: httpx.Client,
        document: dict[str, Any],
        *,
        token: str | None = None,
        first_job_id: int | None = None,
        job_ids: dict[str, int] | None = None,
        served: dict[str, Any] | None = None,
    ) -> None:
        """`client` has the backend's base URL; job ids count up from `first_job_id`.

        `job_ids` maps an operation (training, inference, export) to a job that exists on the
        backend, used by every check of that operation (a real platform answers 404 for jobs it
        did not create). `served` is the backend's own OpenAPI document, when it serves one.
        """
        self.client = client
        self.document = document
        self.token = token
        self.job_ids = dict(job_ids or {})
        self.served = served
        start = first_job_id if first_job_id is not None else 900_000_000 + secrets.randbelow(10**8)
        self._ids: Iterator[int] = itertools.count(start)

    def new_job(self, operation: str | None = None) -> int:
        """A job id no other check of this run uses, or the given job of that operation."""
        if operation is not None and operation in self.job_ids:
            return self.job_ids[operation]
        return next(self._ids)

    def job_is_missing(self, endpoint: Endpoint, response: httpx.Response) -> bool:
        """True when a 404 says the job does not exist here (not that the route is missing)."""
        if response.status_code != 404:
            return False
        if self.served is not None:
            return normalized_path(endpoint.path) in served_routes(self.served)
        try:
            body: object = response.json()
        except ValueError:
            body = response.text.strip()
        return body not in _NO_ROUTE_BODIES

    @staticmethod
    def for_job(endpoint: Endpoint, body: Any, job_id: int, keep: str = "") -> Any:
        """`body` with every field named like a path parameter set to the job id.

        `keep` is the JSON path of a field left as it is (the one a broken body broke).
        """
        if not isinstance(body, dict):
            return body
        names = _PARAM.findall(endpoint.path)
        return {**body, **{n: job_id for n in names if n in body and f"$.{n}" != keep}}

    def send(
        self,
        result: CheckResult,
        endpoint: Endpoint,
        job_id: int,
        body: Any = None,
        *,
        raw: bytes | None = None,
        key: str | None = None,
        auth: str | bool | None = True,
    ) -> httpx.Response | None:
        """POST one callback; conformance failures go to `result`. None when it could not be sent.

        `auth=True` sends the configured token, a string sends that token, False sends none.
        """
        headers = {"Content-Type": "application/json"}
        if key is not None:
            headers[IDEMPOTENCY_HEADER] = key
        token = self.token if auth is True else (auth or None)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        content = raw if raw is not None else json.dumps(body).encode()
        path = endpoint.path.format(**dict.fromkeys(_PARAM.findall(endpoint.path), job_id))
        result.requests += 1
        try:
            response = self.client.post(path, content=content, headers=headers)
        except httpx.HTTPError as exc:
            result.fail(f"{endpoint.method} {path}: the request failed: {exc!r}")
            return None
        if self.job_is_missing(endpoint, response):
            result.fail(
                f"{endpoint.method} {path}: job {job_id} does not exist on this backend "
                f"({response.text[:120]}); give an existing {endpoint.operation} job with "
                f"--job-id {endpoint.operation}=ID",
                NOT_CHECKED,
            )
            response.extensions["job_missing"] = True
            return response
        kind = DEFECT if response.status_code >= 500 else DIFFERENCE
        for failure in response_failures(
            self.document,
            endpoint,
            response.status_code,
            response.headers.get("content-type"),
            response.text,
        ):
            result.fail(failure, kind)
        return response


def served_routes(document: dict[str, Any]) -> set[str]:
    """Every path of a served OpenAPI document, normalized, with each possible prefix stripped
    (`/api/v1/training/...` also gives `/training/...`)."""
    routes: set[str] = set()
    for path in document.get("paths") or {}:
        parts = normalized_path(str(path)).split("/")
        routes.update("/".join(["", *parts[i:]]) for i in range(1, len(parts)))
    return routes


def _expect(result: CheckResult, response: httpx.Response | None, wanted: str, what: str) -> bool:
    """Record a failure unless the status matches `wanted` ("2xx", "4xx" or a code).

    A 5xx is a defect; any other mismatch a contract difference; an unknown job is not checked
    (already recorded by `Prober.send`)."""
    if response is None or response.extensions.get("job_missing"):
        return False
    status = response.status_code
    ok = str(status)[0] == wanted[0] if wanted.endswith("xx") else str(status) == wanted
    if not ok:
        kind = DEFECT if status >= 500 else DIFFERENCE
        result.fail(f"{what}: expected {wanted}, got {status}: {response.text[:300]}", kind)
    return ok


def _examples(document: dict[str, Any]) -> dict[str, list[ExampleBody]]:
    return {name: example_bodies(document, endpoint) for name, endpoint in ENDPOINTS.items()}


def _valid_examples(probe: Prober, report: Report, examples: dict[str, list[ExampleBody]]) -> None:
    result = report.add("valid-examples-accepted", "every schema example is accepted (2xx)")
    for name, found in examples.items():
        if not found:
            result.fail(f"{name}: the contract has no example body to send; add `examples`")
        for example in found:
            job = probe.new_job(example.endpoint.operation)
            body = probe.for_job(example.endpoint, example.body, job)
            response = probe.send(result, example.endpoint, job, body)
            _expect(result, response, "2xx", f"{name} example of {example.schema}")


def _invalid_bodies(probe: Prober, report: Report, examples: dict[str, list[ExampleBody]]) -> None:
    result = report.add(
        "invalid-bodies-rejected",
        "one-fault bodies get 4xx with a problem+json listing the broken path",
    )
    for name, found in examples.items():
        if not found:
            continue
        for broken in broken_bodies(found[0]):
            job = probe.new_job(broken.endpoint.operation)
            body = probe.for_job(broken.endpoint, broken.body, job, keep=broken.path)
            response = probe.send(result, broken.endpoint, job, body)
            what = f"{name} with {broken.path} {broken.how}"
            if not _expect(result, response, "4xx", what) or response is None:
                continue
            listed = _listed_paths(response)
            if broken.path != "$" and not any(p.startswith(broken.path) for p in listed):
                result.fail(f"{what}: the problem's `errors` do not name {broken.path} ({listed})")


def _listed_paths(response: httpx.Response) -> list[str]:
    try:
        errors = response.json().get("errors") or []
    except (ValueError, AttributeError):
        return []
    return [str(e.get("path")) for e in errors if isinstance(e, dict)]


def _malformed(probe: Prober, report: Report) -> None:
    result = report.add("malformed-json-rejected", "a body that is not JSON gets 4xx")
    for endpoint in ENDPOINTS.values():
        job = probe.new_job(endpoint.operation)
        response = probe.send(result, endpoint, job, raw=b'{"job_id": 1,')
        _expect(result, response, "4xx", f"{endpoint.name} with a truncated JSON body")


def _by_role(examples: list[ExampleBody]) -> dict[EventKind, ExampleBody]:
    roles = body_roles()
    found: dict[EventKind, ExampleBody] = {}
    for example in examples:
        kind = roles.kind(example.schema)
        if kind is EventKind.PROGRESS and event_for(example.schema, example.body).epoch == 0:
            found.setdefault(EventKind.STARTED, example)
        found.setdefault(kind, example)
    return found


def _lifecycle(probe: Prober, report: Report, examples: dict[str, list[ExampleBody]]) -> None:
    result = report.add(
        "lifecycle-enforced",
        "started -> progress -> completed accepted; anything after the end, or an epoch going "
        "backwards, gets 409",
    )
    operations = sorted({e.operation for e in ENDPOINTS.values()})
    for operation in operations:
        pool = [x for e in ENDPOINTS.values() if e.operation == operation for x in examples[e.name]]
        role = _by_role(pool)
        start, progress = role.get(EventKind.STARTED), role.get(EventKind.PROGRESS)
        done, failed = role.get(EventKind.COMPLETED), role.get(EventKind.FAILED)
        if done is None or failed is None:
            continue
        job = probe.new_job(operation)
        steps: list[tuple[ExampleBody, Any, str, str]] = []
        if start is not None:
            steps.append((start, start.body, "2xx", "the start report"))
        if progress is not None:
            for epoch in (1, 2):
                body = with_epoch(progress.body, epoch)
                steps.append((progress, body, "2xx", f"progress of epoch {epoch}"))
        steps.append((done, done.body, "2xx", "the completion"))
        if progress is not None:
            steps.append(
                (progress, with_epoch(progress.body, 3), "409", "progress after the completion")
            )
        steps.append((done, done.body, "409", "a second completion"))
        steps.append((failed, failed.body, "409", "a failure after the completion"))
        final: str | None = None  # the job's status answered to its completion, if any
        for example, body, wanted, what in steps:
            response = probe.send(
                result, example.endpoint, job, probe.for_job(example.endpoint, body, job)
            )
            accepted = _expect(result, response, wanted, f"{operation} job: {what}")
            if final is None and example is done and accepted and response is not None:
                final = _job_status(response) or ""
            elif final and response is not None:
                _lost_update(result, response, final, f"{operation} job: {what}")
        if progress is not None:
            job = probe.new_job(operation)
            for epoch, wanted in ((2, "2xx"), (1, "409")):
                body = probe.for_job(progress.endpoint, with_epoch(progress.body, epoch), job)
                response = probe.send(result, progress.endpoint, job, body)
                _expect(result, response, wanted, f"{operation} job: epoch {epoch} after epoch 2")


def _job_status(response: httpx.Response) -> str | None:
    """The `job_status` of a 2xx answer (training callbacks carry it), else None."""
    if not 200 <= response.status_code < 300:
        return None
    try:
        status = response.json().get("job_status")
    except (ValueError, AttributeError):
        return None
    return status if isinstance(status, str) else None


def _lost_update(result: CheckResult, response: httpx.Response, final: str, what: str) -> None:
    """After a completion, an accepted report whose answer gives the job another status lost
    the completion: the backend overwrote a finished job (a defect whatever the contract)."""
    status = _job_status(response)
    if status is not None and status != final:
        result.fail(
            f"{what}: accepted, and the job's status went from {final!r} to {status!r}: the "
            "finished job was overwritten (a lost update; a late or retried report must never "
            "change a finished job)",
            DEFECT,
        )


def _idempotency(probe: Prober, report: Report, examples: dict[str, list[ExampleBody]]) -> None:
    result = report.add(
        "idempotency-key-honoured",
        "a retry with the same Idempotency-Key gets the first answer; the key with another "
        "body is refused",
    )
    progress = _by_role([x for found in examples.values() for x in found]).get(EventKind.PROGRESS)
    if progress is None:
        result.fail("the contract has no progress example to send")
        return
    job = probe.new_job(progress.endpoint.operation)
    key = f"verify-{secrets.token_hex(8)}"
    first_body = probe.for_job(progress.endpoint, with_epoch(progress.body, 1), job)
    first = probe.send(result, progress.endpoint, job, first_body, key=key)
    again = probe.send(result, progress.endpoint, job, first_body, key=key)
    if (
        _expect(result, first, "2xx", "the first sending")
        and first is not None
        and again is not None
        and (again.status_code, again.content) != (first.status_code, first.content)
    ):
        result.fail(
            f"the repeat got {again.status_code} {again.text[:200]!r}, the first "
            f"{first.status_code} {first.text[:200]!r}: a retry must get the first answer"
        )
    other = probe.for_job(progress.endpoint, with_epoch(progress.body, 2), job)
    reused = probe.send(result, progress.endpoint, job, other, key=key)
    _expect(result, reused, "4xx", "the same Idempotency-Key with a different body")


def _auth(probe: Prober, report: Report, examples: dict[str, list[ExampleBody]]) -> None:
    result = report.add("bearer-token-required", "callbacks without the bearer token get 401")
    example = next(x for found in examples.values() for x in found)
    job = probe.new_job(example.endpoint.operation)
    body = probe.for_job(example.endpoint, example.body, job)
    for auth, what in ((False, "no token"), (f"wrong-{secrets.token_hex(4)}", "a wrong token")):
        response = probe.send(result, example.endpoint, job, body, auth=auth)
        _expect(result, response, "401", f"a callback with {what}")


def _served_document(probe: Prober, report: Report) -> None:
    result = report.add(
        "openapi-document-matches",
        f"a document served at {OPENAPI_PATH} (optional) has the contract's operations",
    )
    served = probe.served
    if served is None:
        result.requests += 1
        try:
            response = probe.client.get(OPENAPI_PATH)
        except httpx.HTTPError as exc:
            result.fail(f"GET {OPENAPI_PATH} failed: {exc!r}")
            return
        if response.status_code == 404:
            return  # serving the document is optional
        try:
            served = response.json()
        except ValueError:
            result.fail(f"GET {OPENAPI_PATH} answered {response.status_code} without JSON")
            return
    else:
        result.requests += 1  # fetched once by `verify` (to find the API prefix)
    document = served if isinstance(served, dict) else {}
    routes = served_routes(document)
    for operation in sorted(_operations(probe.document)):
        method, path = operation.split(" ", 1)
        if normalized_path(path) not in routes or not _serves(document, method, path):
            result.fail(f"the served document lacks {operation}")
    version = probe.document.get("info", {}).get("version")
    served_version = document.get("info", {}).get("version")
    if served_version != version:
        result.fail(f"the served document is version {served_version!r}, the contract {version!r}")


def _serves(document: dict[str, Any], method: str, path: str) -> bool:
    """Whether a served path ending like `path` (any prefix, any parameter names) has `method`."""
    wanted = normalized_path(path)
    return any(
        normalized_path(str(served)).endswith(wanted) and method.lower() in item
        for served, item in (document.get("paths") or {}).items()
        if isinstance(item, dict)
    )


def _operations(document: dict[str, Any]) -> set[str]:
    paths = document.get("paths")
    if not isinstance(paths, dict):
        return set()
    return {
        f"{method.upper()} {path}"
        for path, item in paths.items()
        if isinstance(item, dict)
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    }


def run_scenarios(probe: Prober, report: Report) -> Report:
    """Run every scripted check, adding one result per check to `report`."""
    _served_document(probe, report)
    examples = _examples(probe.document)
    _valid_examples(probe, report, examples)
    _invalid_bodies(probe, report, examples)
    _malformed(probe, report)
    _lifecycle(probe, report, examples)
    _idempotency(probe, report, examples)
    if probe.token:
        _auth(probe, report, examples)
    return report
