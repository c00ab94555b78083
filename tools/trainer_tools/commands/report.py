"""`trainer-sdk report SOURCE`: turn a run into one self-contained HTML page.

SOURCE is a `CALLBACK_URL=file:///...jsonl` recording (its path or its file:// URL), an SDK outbox
spool (`$WORK_DIR/.trainer-sdk/outbox/job-N.jsonl`), the reference backend's SQLite file, or its
URL (`http://127.0.0.1:8000`, with `--job N`, or `http://127.0.0.1:8000/jobs/N`). A dry-run
writes its own report with `dry-run --report PATH`.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

NAME = "report"
HELP = (
    "Write one self-contained HTML report of a run (metric curves, callback timeline, validation, "
    "dataset, verdict) from a callback recording, an outbox, or the reference backend."
)
_TOKEN_ENV = "DEV_BACKEND_TOKEN"


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the report arguments."""
    parser.add_argument(
        "source",
        metavar="SOURCE",
        help="a file:// callback recording (.jsonl), an outbox spool, the reference backend's "
        "SQLite file, or its URL",
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        default=Path("report.html"),
        help="the HTML file to write (default: report.html)",
    )
    parser.add_argument("--job", type=int, default=None, help="the job id (default: the latest)")
    parser.add_argument(
        "--dataset",
        type=Path,
        default=None,
        metavar="DIR",
        help="the run's DICE dataset folder, to draw its statistics and sample images",
    )
    parser.add_argument(
        "--token",
        default=os.environ.get(_TOKEN_ENV),
        help=f"the backend's bearer token, for a URL (default: ${_TOKEN_ENV})",
    )


def run(args: argparse.Namespace) -> int:
    """Write the report; 0 when written, 1 when the source cannot be read."""
    from trainer_tools.report import ReportSourceError, load_record, render_report

    if args.dataset is not None and not args.dataset.exists():
        print(f"trainer-sdk report: --dataset {args.dataset}: no such folder", file=sys.stderr)
        return 1
    try:
        record = load_record(
            args.source, job_id=args.job, token=args.token, dataset_dir=args.dataset
        )
    except ReportSourceError as exc:
        print(f"trainer-sdk report: {exc}", file=sys.stderr)
        return 1
    page = render_report(record)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(page, encoding="utf-8")
    print(
        f"report of job {record.job_id} ({len(record.events)} callbacks, {record.state}): "
        f"{args.output} ({len(page.encode()) / 1024:.0f} KB)"
    )
    return 0
