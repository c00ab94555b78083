"""`trainer-sdk report`: one self-contained HTML page per run (curves, timeline, validation,
dataset, verdict), and the sparklines of the dry-run's terminal output.

    record = load_record("callbacks.jsonl", dataset_dir=Path("data"))
    Path("report.html").write_text(render_report(record))

Needs the `tools` extra (Pillow draws the sample images); nothing here is part of the runtime SDK.
"""

from trainer_tools.report.page import render_report
from trainer_tools.report.record import Answer, CheckLine, RunEvent, RunRecord
from trainer_tools.report.sources import ReportSourceError, load_record, record_from_dry_run
from trainer_tools.report.sparkline import format_sparklines, sparkline

__all__ = [
    "Answer",
    "CheckLine",
    "ReportSourceError",
    "RunEvent",
    "RunRecord",
    "format_sparklines",
    "load_record",
    "record_from_dry_run",
    "render_report",
    "sparkline",
]
