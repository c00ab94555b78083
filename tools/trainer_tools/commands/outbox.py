"""`trainer-sdk outbox`: inspect and replay the callback outbox a trainer left behind.

The SDK spools every callback to `$WORK_DIR/.trainer-sdk/outbox/job-<JOB_ID>.jsonl` before
sending it. When the backend stayed unreachable (the trainer exited with code 2), the file holds
what was not delivered; `trainer-sdk outbox replay PATH` sends it, in order and with the original
idempotency keys (so a backend that already got one of them can drop the duplicate), and marks
each delivered one in the file. Dead letters (background callbacks the backend kept refusing
during the run) are sent again in their place. PATH may be a spool file or a folder containing
spool files. A record is sent only to the path its endpoint and the spool's job id give; records
that disagree are not sent (`show` lists them as refused).

Exit codes follow the contract: 0 everything delivered, 1 the backend rejected a callback (4xx)
or a record was refused, 2 the backend could not be reached (or kept refusing) after the retries.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from trainer_contract.env import ENV_VARS
from trainer_contract.exit_codes import ExitCode
from trainer_sdk.delivery.outbox import Outbox, OutboxBusyError, read_outbox
from trainer_sdk.delivery.retry import RetryPolicy
from trainer_sdk.delivery.sender import CallbackSender
from trainer_sdk.delivery.transport import open_transport
from trainer_sdk.errors import CallbackDeliveryError
from trainer_sdk.redaction import Redactor, redact_url
from trainer_sdk.version import __version__

NAME = "outbox"
HELP = "Show or replay the callbacks a trainer spooled to its outbox (undelivered callbacks)."

_URL = ENV_VARS["CALLBACK_URL"]
_TOKEN = ENV_VARS["CALLBACK_TOKEN"]
_RETRIES = ENV_VARS["CALLBACK_MAX_RETRIES"]
_DELAY = ENV_VARS["CALLBACK_RETRY_DELAY"]
_TIMEOUT = ENV_VARS["CALLBACK_TIMEOUT"]


def _env_number(name: str, default: object) -> float:
    raw = os.environ.get(name, "")
    return float(raw) if raw else float(str(default))


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the `show` and `replay` actions."""
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    show = actions.add_parser(
        "show", help="list the pending callbacks, dead letters and refused records of a spool"
    )
    show.add_argument("path", type=Path, help="a spool file (job-N.jsonl) or a folder of them")
    replay = actions.add_parser(
        "replay",
        help="send the pending callbacks and dead letters of a spool, in order, with their "
        "original keys",
    )
    replay.add_argument("path", type=Path, help="a spool file (job-N.jsonl) or a folder of them")
    replay.add_argument(
        "--callback-url",
        default=os.environ.get(_URL.name),
        help=f"backend API base (default: ${_URL.name})",
    )
    replay.add_argument(
        "--max-retries",
        type=int,
        default=int(_env_number(_RETRIES.name, _RETRIES.default)),
        help=f"retries per callback (default: ${_RETRIES.name} or {_RETRIES.default})",
    )
    replay.add_argument(
        "--retry-delay",
        type=float,
        default=_env_number(_DELAY.name, _DELAY.default),
        help=f"base backoff in seconds (default: ${_DELAY.name} or {_DELAY.default})",
    )
    replay.add_argument(
        "--timeout",
        type=float,
        default=_env_number(_TIMEOUT.name, _TIMEOUT.default),
        help=f"per-request timeout in seconds (default: ${_TIMEOUT.name} or {_TIMEOUT.default})",
    )


def _spools(path: Path) -> list[Path]:
    if path.is_dir():
        found = sorted(path.rglob("job-*.jsonl"))
        return found
    return [path] if path.is_file() else []


def _show(paths: list[Path]) -> int:
    for path in paths:
        state = read_outbox(path)
        done = ", ".join(f"{count} {state_}" for state_, count in sorted(state.done.items()))
        refused = f", {len(state.refused)} refused" if state.refused else ""
        print(
            f"{path}: {len(state.pending)} pending, {len(state.dead)} dead{refused}"
            + (f" ({done})" if done else "")
        )
        listed = sorted(
            [("pending", e) for e in state.pending] + [("dead", e) for e in state.dead],
            key=lambda item: item[1].seq,
        )
        for label, envelope in listed:
            print(
                f"  #{envelope.seq} {label} {envelope.created_at} {envelope.method} "
                f"{envelope.path} key={envelope.key}"
            )
        for record in state.refused:
            print(f"  #{record.seq} refused: {record.reason}")
    return int(ExitCode.SUCCESS)


def _replay(paths: list[Path], args: argparse.Namespace) -> int:
    if not args.callback_url:
        print(
            f"trainer-sdk outbox replay: no backend URL; pass --callback-url or set {_URL.name}",
            file=sys.stderr,
        )
        return int(ExitCode.TRAINING_FAILURE)
    token = os.environ.get(_TOKEN.name) or None
    redact = Redactor([token] if token else [])
    policy = RetryPolicy(max_retries=args.max_retries, base_delay=args.retry_delay)
    worst = int(ExitCode.SUCCESS)
    for path in paths:
        try:
            outbox = Outbox(path)
        except OutboxBusyError as exc:
            print(f"trainer-sdk outbox replay: {exc}", file=sys.stderr)
            worst = max(worst, int(ExitCode.TRAINING_FAILURE))
            continue
        pending = len(outbox.recovered) + len(outbox.dead_letters)
        if outbox.refused:
            worst = max(worst, int(ExitCode.TRAINING_FAILURE))
        if not pending:
            outbox.close()
            print(f"{path}: nothing to deliver")
            continue
        transport = open_transport(
            args.callback_url,
            user_agent=f"trainer-sdk/{__version__} outbox-replay",
            timeout=args.timeout,
            token=token,
        )
        sender = CallbackSender(transport, policy, outbox, redact=redact, include_dead=True)
        try:
            sender.flush()
        except CallbackDeliveryError as exc:
            sender.close(flush=False)
            print(f"{path}: {exc}", file=sys.stderr)
            worst = max(worst, int(ExitCode.CALLBACK_FAILURE))
            continue
        sender.close(flush=False)
        stats = sender.stats
        if sender.spool_error:
            print(
                f"{path}: could not record the deliveries in the spool ({sender.spool_error}); "
                "a later replay sends them again with the same idempotency keys, which the "
                "backend drops as duplicates",
                file=sys.stderr,
            )
        if stats.dead:
            worst = max(worst, int(ExitCode.CALLBACK_FAILURE))
        print(
            f"{path}: delivered {stats.delivered} of {pending} callback(s) to "
            f"{redact(redact_url(args.callback_url))}"
            + (f"; {stats.rejected} rejected by the backend" if stats.rejected else "")
        )
        for rejection in stats.rejections:
            print(f"  {rejection}", file=sys.stderr)
        if stats.rejected:
            worst = max(worst, int(ExitCode.TRAINING_FAILURE))
    return worst


def run(args: argparse.Namespace) -> int:
    """Show or replay the spool(s) at `args.path`."""
    paths = _spools(args.path)
    if not paths:
        print(f"trainer-sdk outbox: no spool file at {args.path}", file=sys.stderr)
        return int(ExitCode.TRAINING_FAILURE)
    if args.action == "show":
        return _show(paths)
    return _replay(paths, args)
