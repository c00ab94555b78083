"""Property-based checks with schemathesis: generated requests, valid and invalid, per operation.

schemathesis generates bodies, path parameters and headers from the contract's OpenAPI document
and runs its checks on every answer (no 5xx, documented status codes and media types, responses
matching their schemas, invalid data rejected, valid data accepted). Before sending, `reconcile`
makes a generated valid request keep the two rules a JSON Schema cannot state: a body field named
like a path parameter carries the URL's value (the job id), and an `Idempotency-Key` is never
reused for a different request. Both are client obligations of the contract; without them a
"valid" generated request is not valid, and a correct backend would be blamed for refusing it.

`fuzz` runs this over HTTP against any backend (`verify-backend`); the in-process pytest tests
use `reconcile` with `schemathesis.openapi.from_asgi`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

from trainer_contract.callbacks import ENDPOINTS
from trainer_tools.contract_check.report import (
    DEFECT,
    DIFFERENCE,
    NOT_CHECKED,
    CheckResult,
    Report,
)
from trainer_tools.dev_backend.app import IDEMPOTENCY_HEADER

__all__ = ["fuzz", "reconcile"]

_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def reconcile(case: Any) -> Any:
    """Make a generated valid case keep the contract's cross-field rules (see the module doc)."""
    meta = getattr(case, "meta", None)
    positive = meta is not None and meta.generation.mode.is_positive
    if not positive:
        return case
    params = case.path_parameters or {}
    if isinstance(case.body, dict):
        for name in _PARAM.findall(case.operation.path):
            if name in case.body and name in params:
                case.body[name] = _same_type(params[name], case.body[name])
    headers = case.headers
    if headers and IDEMPOTENCY_HEADER in headers:
        headers[IDEMPOTENCY_HEADER] = f"{uuid.uuid4().hex}-{str(headers[IDEMPOTENCY_HEADER])[:100]}"
    return case


def _same_type(value: Any, like: Any) -> Any:
    """The path parameter as the body carries it (a path parameter may arrive as text)."""
    if isinstance(like, int) and not isinstance(like, bool) and isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return value
    return value


def fuzz(
    base_url: str,
    document: dict[str, Any],
    report: Report,
    *,
    token: str | None = None,
    examples: int = 25,
    seed: int = 0,
    timeout: float = 10.0,
    job_ids: dict[str, int] | None = None,
    missing_job: Callable[[Any, Any], bool] | None = None,
) -> Report:
    """Generate `examples` valid and `examples` invalid requests per operation; add the results.

    `job_ids` pins the job id of each operation's requests to an existing job (a real platform
    answers 404 for others); `missing_job(endpoint, response)` tells such a 404 from a defect,
    and those requests are reported as not checked."""
    operations = {(e.method, e.path): e for e in ENDPOINTS.values()}
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as hypothesis_seed
    from schemathesis import GenerationMode
    from schemathesis.core.result import Err

    schema = schemathesis.openapi.from_dict(document)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    for found in schema.get_all_operations():
        if isinstance(found, Err):
            broken = report.add("fuzz", "every operation of the document can be generated")
            broken.fail(f"schemathesis cannot use an operation of the contract: {found.err()}")
            continue
        operation = found.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            result = report.add(
                f"fuzz {mode.value} {operation.label}",
                f"{examples} generated {mode.value} requests (schemathesis checks)",
            )
            endpoint = operations.get((operation.method.upper(), operation.path))
            pinned = (job_ids or {}).get(endpoint.operation) if endpoint is not None else None
            run = _runner(result, base_url, headers, timeout, endpoint, pinned, missing_job)
            strategy = operation.as_strategy(generation_mode=mode)
            given(case=strategy)(
                settings(
                    max_examples=examples,
                    database=None,
                    deadline=None,
                    suppress_health_check=list(HealthCheck),
                    print_blob=False,
                )(hypothesis_seed(seed)(run))
            )()
    return report


def _runner(
    result: CheckResult,
    base_url: str,
    headers: dict[str, str],
    timeout: float,
    endpoint: Any = None,
    pinned: int | None = None,
    missing_job: Callable[[Any, Any], bool] | None = None,
) -> Callable[[Any], None]:
    """The body of the property test of one operation; failures are recorded, never raised,
    so that hypothesis keeps generating instead of shrinking one failure."""
    seen: set[str] = set()

    def run(case: Any) -> None:
        meta = getattr(case, "meta", None)
        positive = meta is not None and meta.generation.mode.is_positive
        if pinned is not None and positive and case.path_parameters:
            for name in case.path_parameters:
                case.path_parameters[name] = pinned
        reconcile(case)
        result.requests += 1
        try:
            response = case.call(base_url=base_url, headers=headers, timeout=timeout)
            # Only a valid request can be refused for its job: a 404 to an invalid one (a
            # negative job id) is a rejection, judged by schemathesis like any other.
            if (
                positive
                and endpoint is not None
                and missing_job is not None
                and missing_job(endpoint, response)
            ):
                text = (
                    f"job {case.path_parameters} does not exist on this backend; give an "
                    f"existing {endpoint.operation} job with --job-id {endpoint.operation}=ID"
                )
                if text not in seen:
                    seen.add(text)
                    result.fail(text, NOT_CHECKED)
                return
            case.validate_response(response, headers=headers)
        except (Exception, BaseExceptionGroup) as exc:  # schemathesis raises a BaseExceptionGroup
            text = _describe(exc, case)
            if text not in seen:
                seen.add(text)
                # A server error is a defect whatever the contract; the rest are differences.
                server_error = "server error" in text.lower() or " 5xx" in text
                result.fail(text, DEFECT if server_error else DIFFERENCE)

    return run


def _describe(exc: BaseException, case: Any) -> str:
    found = getattr(exc, "exceptions", None) or [exc]
    titles = [str(getattr(e, "title", "") or type(e).__name__) for e in found]
    messages = [str(getattr(e, "message", "") or e).strip() for e in found]
    details = "\n".join(f"{t}: {m}" for t, m in zip(titles, messages, strict=True))[:1200]
    body = repr(case.body)[:300]
    return f"{' | '.join(titles)}\n{details}\nrequest: path {case.path_parameters} body {body}"
