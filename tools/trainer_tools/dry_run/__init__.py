"""`trainer-sdk dry-run`: a trainer end to end against real servers on loopback, then a verdict."""

from trainer_tools.dry_run.runner import DryRunError, DryRunOptions, DryRunResult, dry_run
from trainer_tools.dry_run.verdict import CHECK_NAMES, Check, Verdict

__all__ = [
    "CHECK_NAMES",
    "Check",
    "DryRunError",
    "DryRunOptions",
    "DryRunResult",
    "Verdict",
    "dry_run",
]
