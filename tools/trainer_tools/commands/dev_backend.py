"""`trainer-sdk dev-backend`: serve the reference backend (every callback endpoint) with uvicorn."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

NAME = "dev-backend"
HELP = (
    "Serve the reference backend: every callback endpoint of the contract, validated, with the "
    "job lifecycle enforced and everything recorded in SQLite."
)
_DEFAULT_DB = Path(".trainer-sdk") / "dev-backend.sqlite3"
_TOKEN_ENV = "DEV_BACKEND_TOKEN"


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the dev-backend options."""
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    parser.add_argument("--port", type=int, default=8000, help="port (0: any free port)")
    parser.add_argument(
        "--db",
        type=Path,
        default=_DEFAULT_DB,
        help=f"SQLite file; it survives restarts (default: {_DEFAULT_DB})",
    )
    parser.add_argument(
        "--token",
        default=os.environ.get(_TOKEN_ENV),
        help=f"require `Authorization: Bearer TOKEN` on callbacks (default: ${_TOKEN_ENV})",
    )


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted."""
    import uvicorn

    from trainer_tools.dev_backend import OPENAPI_PATH, TIMELINE_PATH, Store, create_app

    store = Store(args.db)
    app = create_app(store, token=args.token or None)
    where = f"http://{args.host}:{args.port}"
    print(
        f"reference backend on {where} (CALLBACK_URL={where}); OpenAPI at {OPENAPI_PATH}, "
        f"timeline at {TIMELINE_PATH}; record in {args.db} (WAL); "
        f"bearer token {'required' if args.token else 'not required'}",
        file=sys.stderr,
    )
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="info", lifespan="off")
    finally:
        store.close()
    return 0
