"""Provider-side contract checks: does a backend honour the trainer callback contract?

`verify(base_url, token=...)` runs the scripted scenarios (`scenarios`) and the schemathesis
property checks (`fuzzing`) over HTTP and returns a `Report`; `trainer-sdk verify-backend URL`
prints it. The in-process tests under `tests/contract/` run the same scenarios through Starlette's
test client and the same schemathesis checks through `schemathesis.openapi.from_asgi`.
"""

from __future__ import annotations

import httpx

from trainer_contract.openapi import load as load_openapi
from trainer_tools.contract_check.fuzzing import fuzz, reconcile
from trainer_tools.contract_check.report import CheckResult, Report
from trainer_tools.contract_check.scenarios import Prober, run_scenarios

__all__ = ["CheckResult", "Prober", "Report", "fuzz", "reconcile", "run_scenarios", "verify"]


def verify(
    base_url: str,
    *,
    token: str | None = None,
    examples: int = 25,
    seed: int = 0,
    first_job_id: int | None = None,
    timeout: float = 10.0,
) -> Report:
    """Check the backend at `base_url` (its CALLBACK_URL) against the contract.

    Raises `httpx.ConnectError` (or `httpx.TimeoutException`) when nothing answers there.
    """
    document = load_openapi()
    report = Report(base_url)
    with httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout) as client:
        # Any HTTP answer proves the server is there; a refused connection stops here, instead
        # of failing every check with the same error.
        client.get("/")
        run_scenarios(Prober(client, document, token=token, first_job_id=first_job_id), report)
    if examples > 0:
        fuzz(base_url.rstrip("/"), document, report, token=token, examples=examples, seed=seed)
    return report
