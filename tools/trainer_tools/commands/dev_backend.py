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
        "--public-pages",
        action="store_true",
        help="serve the report pages (/ and /jobs/ID) without the token on any interface "
        "(default: only when listening on loopback; a browser cannot send a bearer token)",
    )
    parser.add_argument(
        "--token",
        default=os.environ.get(_TOKEN_ENV),
        help=f"require `Authorization: Bearer TOKEN` on callbacks (default: ${_TOKEN_ENV})",
    )


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted (Ctrl-C or SIGTERM stop it gracefully)."""
    import logging

    import uvicorn

    from trainer_tools.dev_backend import OPENAPI_PATH, TIMELINE_PATH, Store, create_app
    from trainer_tools.dev_backend.pages import is_loopback_host
    from trainer_tools.dry_run.services import bind_socket

    try:
        sock = bind_socket(args.host, args.port)
    except OSError as exc:
        print(f"dev-backend: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    store = Store(args.db)
    app = create_app(store, token=args.token or None)
    app.state.public_pages = args.public_pages or is_loopback_host(args.host)
    where = f"http://{args.host}:{sock.getsockname()[1]}"
    print(
        f"reference backend listening on {where} (use it as CALLBACK_URL)\n"
        f"  OpenAPI document: {where}{OPENAPI_PATH}\n"
        f"  a job's timeline: {where}{TIMELINE_PATH}\n"
        f"  record: {args.db} (SQLite, WAL; kept across restarts)\n"
        f"  bearer token: {'required' if args.token else 'not required'}",
        file=sys.stderr,
        flush=True,
    )
    # One line per callback (accepted, refused and why) from the backend's own logger; uvicorn's
    # access log would only repeat the status codes.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    config = uvicorn.Config(app, log_level="info", lifespan="off", access_log=False)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
        store.close()
    return 0
