"""Provider-side contract checks: does a backend honour the trainer callback contract?

`verify(base_url, token=...)` runs the scripted scenarios (`scenarios`) and the schemathesis
property checks (`fuzzing`) over HTTP and returns a `Report`; `trainer-sdk verify-backend URL`
prints it. The in-process tests under `tests/contract/` run the same scenarios through Starlette's
test client and the same schemathesis checks through `schemathesis.openapi.from_asgi`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx

from trainer_contract.openapi import load as load_openapi
from trainer_contract.validators import schema_documents
from trainer_sdk.delivery.transport import bearer_base_url
from trainer_tools.contract_check.fuzzing import fuzz, reconcile
from trainer_tools.contract_check.report import CheckResult, Report
from trainer_tools.contract_check.scenarios import (
    Prober,
    normalized_path,
    run_scenarios,
    served_routes,
)
from trainer_tools.dev_backend.app import OPENAPI_PATH

__all__ = [
    "CheckResult",
    "Prober",
    "Report",
    "discover",
    "fuzz",
    "reconcile",
    "run_scenarios",
    "verify",
]


def _example_callback_urls() -> list[str]:
    """The http(s) CALLBACK_URLs of env.json's examples."""
    env = schema_documents()["env"]
    urls = [example.get("CALLBACK_URL", "") for example in env.get("examples", [])]
    return [url for url in urls if url.startswith(("http://", "https://"))]


def discover(
    client: httpx.Client, base_url: str, document: dict[str, Any]
) -> tuple[str, dict[str, Any] | None]:
    """The base URL the callbacks live under, and the backend's own OpenAPI document if served.

    The document is looked for under the given URL, then at the server's root (FastAPI serves
    `/openapi.json` there, with its paths under `/api/v1`). When a served path ends with a path
    of the contract, what comes before it is the API prefix: a URL given without it (the
    server's root) gets it appended, so `http://host:8000` and `http://host:8000/api/v1` both
    work. Parameter names do not matter (`{export_job_id}` is the contract's `{job_id}`).
    """
    base = base_url.rstrip("/")
    parts = urlsplit(base)
    origin = f"{parts.scheme}://{parts.netloc}"
    served: dict[str, Any] | None = None
    # Where a FastAPI backend may serve its document: under the URL, at the root, or under the
    # prefix of the contract's example CALLBACK_URLs (env.json: `.../api/v1`).
    hinted = [origin + urlsplit(url).path.rstrip("/") for url in _example_callback_urls()]
    for where in dict.fromkeys((base, origin, *hinted)):
        try:
            response = client.get(where + OPENAPI_PATH)
            candidate = response.json() if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            candidate = None
        if isinstance(candidate, dict) and isinstance(candidate.get("paths"), dict):
            served = candidate
            break
    if served is None:
        return base, None
    ours = [normalized_path(path) for path in document.get("paths", {})]
    for path in served["paths"]:
        shown = normalized_path(str(path))
        for mine in ours:
            if shown.endswith(mine) and mine in served_routes(served):
                prefix = shown[: len(shown) - len(mine)]
                if parts.path.rstrip("/").endswith(prefix):
                    return base, served
                return origin + prefix, served
    return base, served


def verify(
    base_url: str,
    *,
    token: str | None = None,
    examples: int = 25,
    seed: int = 0,
    first_job_id: int | None = None,
    timeout: float = 10.0,
    job_ids: dict[str, int] | None = None,
) -> Report:
    """Check the backend at `base_url` (its CALLBACK_URL, or the server's root) against the
    contract. `job_ids`: existing jobs to use per operation (see `Prober`).

    Raises `httpx.ConnectError` (or `httpx.TimeoutException`) when nothing answers there.
    """
    document = load_openapi()
    base_url = bearer_base_url(base_url, token)
    with httpx.Client(timeout=timeout) as probe_client:
        # Any HTTP answer proves the server is there; a refused connection stops here, instead
        # of failing every check with the same error.
        probe_client.get(base_url.rstrip("/") + "/")
        base_url, served = discover(probe_client, base_url, document)
    report = Report(base_url)
    with httpx.Client(base_url=base_url, timeout=timeout) as client:
        prober = Prober(
            client,
            document,
            token=token,
            first_job_id=first_job_id,
            job_ids=job_ids,
            served=served,
        )
        run_scenarios(prober, report)
    if examples > 0:
        fuzz(
            base_url.rstrip("/"),
            document,
            report,
            token=token,
            examples=examples,
            seed=seed,
            job_ids=job_ids,
            missing_job=prober.job_is_missing,
        )
    return report
