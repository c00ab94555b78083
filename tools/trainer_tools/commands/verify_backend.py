"""`trainer-sdk verify-backend URL`: prove that a running backend honours the callback contract."""

from __future__ import annotations

import argparse
import json
import os
import sys

NAME = "verify-backend"
HELP = (
    "Check a running backend (its CALLBACK_URL) against the callback contract: valid examples "
    "accepted, invalid bodies rejected with problem+json, lifecycle and idempotency enforced, "
    "answers matching the OpenAPI document, plus schemathesis-generated requests; prints a "
    "conformance report that separates defects (5xx, lost updates) from contract differences "
    "(error format, no 409, no idempotency). The URL may be the server's root: the API prefix "
    "(/api/v1) is found from its /openapi.json. It sends real callbacks: point it at a test "
    "deployment."
)
_TOKEN_ENV = "CALLBACK_TOKEN"


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the verify-backend arguments."""
    parser.add_argument("url", metavar="URL", help="the backend's base URL (what CALLBACK_URL is)")
    parser.add_argument(
        "--token",
        default=os.environ.get(_TOKEN_ENV),
        help=f"bearer token to send; also checks that requests without it get 401 "
        f"(default: ${_TOKEN_ENV})",
    )
    parser.add_argument(
        "--examples",
        type=int,
        default=25,
        help="schemathesis-generated requests per operation and mode (0: scripted checks only)",
    )
    parser.add_argument("--seed", type=int, default=0, help="generation seed (reproducible runs)")
    parser.add_argument(
        "--first-job-id",
        type=int,
        default=None,
        help="job ids of the scripted checks count up from here (default: random, 9 digits)",
    )
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
    parser.add_argument(
        "--job-id",
        action="append",
        default=[],
        metavar="OPERATION=ID",
        help="an existing job to send the checks of an operation to (training, inference, "
        "export), e.g. --job-id training=42: a real platform answers 404 for jobs it did not "
        "create, and those checks are then reported as not checked",
    )
    parser.add_argument(
        "--differences-ok",
        action="store_true",
        help="exit 0 when there is no defect (contract differences and checks that could not "
        "run are still listed)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def run(args: argparse.Namespace) -> int:
    """Run every check; 0 when the backend conforms, 1 when a check failed."""
    import httpx

    from trainer_tools.contract_check import verify

    if not args.url.startswith(("http://", "https://")):
        print(f"verify-backend: {args.url!r} is not an http(s) URL", file=sys.stderr)
        return 2
    job_ids: dict[str, int] = {}
    for item in args.job_id:
        operation, _, number = item.partition("=")
        if not number.isdigit() or not operation:
            print(
                f"verify-backend: --job-id {item!r}: expected OPERATION=ID, e.g. training=42",
                file=sys.stderr,
            )
            return 2
        job_ids[operation] = int(number)
    try:
        report = verify(
            args.url,
            token=args.token or None,
            examples=max(0, args.examples),
            seed=args.seed,
            first_job_id=args.first_job_id,
            timeout=args.timeout,
            job_ids=job_ids,
        )
    except (httpx.ConnectError, httpx.TimeoutException) as exc:
        print(f"verify-backend: cannot connect to {args.url}: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report.to_json(), indent=2) if args.json else report.format())
    if report.ok or (args.differences_ok and report.defects == 0):
        return 0
    return 1
