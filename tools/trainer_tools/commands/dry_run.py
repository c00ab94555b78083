"""`trainer-sdk dry-run TRAIN_PY`: run a trainer end to end on loopback servers and judge it."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from trainer_tools.terminal import COLOR_CHOICES, terminal_width, use_color

NAME = "dry-run"
HELP = (
    "Run a train.py end to end against the reference backend and a real S3 server on loopback, "
    "print its callback timeline and a verdict; exit 0 only when the trainer kept the contract."
)
DEFAULT_EPOCHS = 5
# A dry-run that cannot even start (bad arguments, a server that did not start) exits with this
# code, distinct from a failed verdict (1).
SETUP_FAILURE = 2


def _env_pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name or not name.replace("_", "").isalnum():
        raise argparse.ArgumentTypeError(f"{text!r}: expected NAME=VALUE, e.g. --env BATCH_SIZE=8")
    return name, value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value}: must be at least 1")
    return value


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the dry-run arguments."""
    parser.add_argument("train_py", type=Path, metavar="TRAIN_PY", help="the trainer to run")
    parser.add_argument(
        "--dataset",
        type=Path,
        metavar="DIR_OR_JSON",
        help="a DICE dataset folder (annotations_<task>.json, metadata.json, images/) or an "
        "annotation JSON file; uploaded to the external bucket under datasets/{dataset_id}/ "
        "(default: the demo dataset shipped with trainer-sdk, ds_demo_shapes)",
    )
    parser.add_argument(
        "--no-dataset",
        action="store_true",
        help="upload no dataset (DATASET_S3_URI unset), for trainers that need none",
    )
    parser.add_argument(
        "--epochs",
        type=_positive,
        default=DEFAULT_EPOCHS,
        help=f"EPOCHS given to the trainer (default: {DEFAULT_EPOCHS}; a dry-run is a smoke test)",
    )
    parser.add_argument(
        "--model",
        metavar="NAME",
        help="MODEL_NAME given to the trainer (default: unset, so the trainer uses its own "
        "default model); `--env MODEL_NAME=...` wins over it",
    )
    parser.add_argument(
        "--env",
        type=_env_pair,
        action="extend",
        nargs="+",
        default=[],
        metavar="K=V",
        help="set or override environment variables of the trainer (`--env A=1 B=2`, repeatable)",
    )
    parser.add_argument(
        "--python",
        default=sys.executable,
        metavar="PATH",
        help="the interpreter that runs TRAIN_PY (default: this one); it needs trainer_sdk",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=600.0,
        help="stop the trainer after this many seconds (default: 600)",
    )
    parser.add_argument(
        "--no-token",
        action="store_true",
        help="run the backend without a bearer token (default: a random token in CALLBACK_TOKEN)",
    )
    parser.add_argument(
        "--report",
        type=Path,
        default=None,
        metavar="HTML",
        help="also write the run's report (curves, timeline, validation, dataset, verdict) "
        "as one self-contained HTML file",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the verdict (with the timeline) as JSON on stdout; everything else on stderr",
    )
    parser.add_argument(
        "--expect-failure",
        action="store_true",
        help="the trainer is meant to fail (testing a failure path): pass when the job reports "
        "a failure and exits 1 with the contract kept, fail when it succeeds",
    )
    parser.add_argument(
        "--color",
        choices=COLOR_CHOICES,
        default="auto",
        help="colour PASS and FAIL: auto (on a terminal, unless NO_COLOR is set), always, never",
    )


def _interrupt_on_sigterm() -> None:
    # SIGTERM (a CI runner cancelling the job) unwinds like Ctrl-C, so every server is stopped.
    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, handler)


def run(args: argparse.Namespace) -> int:
    """Run the dry-run; 0 when every check passed, 1 when one failed (a failed training too,
    unless --expect-failure), 2 when it could not run."""
    from trainer_tools.dry_run import DryRunError, DryRunOptions, dry_run
    from trainer_tools.dry_run.dataset_upload import DatasetError
    from trainer_tools.services.seaweed import SeaweedStartError

    _interrupt_on_sigterm()

    def human(line: str) -> None:
        target = sys.stderr if args.json else sys.stdout
        target.write(line + "\n")
        target.flush()

    dataset = args.dataset
    if dataset is None and not args.no_dataset:
        from trainer_tools.dry_run.demo_dataset import demo_dataset

        dataset = demo_dataset()
    options = DryRunOptions(
        train_py=args.train_py,
        dataset=dataset,
        demo_dataset=args.dataset is None and dataset is not None,
        epochs=args.epochs,
        env=({"MODEL_NAME": args.model} if args.model else {}) | dict(args.env),
        timeout=args.timeout,
        require_token=not args.no_token,
        python=args.python,
        expect_failure=args.expect_failure,
        color=use_color(args.color, sys.stderr if args.json else sys.stdout),
        width=terminal_width(),
    )
    try:
        result = dry_run(options, say=human, stream=human)
    except (DryRunError, DatasetError, SeaweedStartError) as exc:
        print(f"dry-run: {exc}", file=sys.stderr)
        return SETUP_FAILURE
    if args.report is not None:
        _write_report(result, args, human)
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
    return 0 if result.verdict.ok else 1


def _write_report(result: object, args: argparse.Namespace, say: Callable[[str], None]) -> None:
    from trainer_tools.dry_run import DryRunResult
    from trainer_tools.report import record_from_dry_run, render_report

    assert isinstance(result, DryRunResult)
    record = record_from_dry_run(result, title=args.train_py.name, dataset_dir=args.dataset)
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(render_report(record), encoding="utf-8")
    say(f"report: {args.report.resolve()} (open it in a browser)")
