"""SIGTERM as an exception, with a time limit for the report that follows.

Kubernetes stops a pod with SIGTERM and kills it `TERMINATION_GRACE_SECONDS` later (lifecycle.json
`x-job-lifecycle.termination`). Python's default is to die at once, so the backend would never
hear that the job stopped. `on_sigterm` turns the signal into `Terminated` (a BaseException, so a
trainer's `except Exception` lets it through) raised in the main thread, and remembers when it
came: the failure report that `run()` or `TrainerSDK.close()` then sends must be delivered within
`FINAL_REPORT_SECONDS` of that moment (`report_deadline`). A second SIGTERM ends the process at
once (`exit_now`), quietly: what was not delivered is in the outbox.

`run(main)` installs the handler for the time `main` runs; a `TrainerSDK` created in the main
thread installs it when nothing else handles SIGTERM (the guide's pattern, without `run`).
A process forked from the one that installed it (a data-loader worker) keeps the default
behaviour: it dies.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from types import FrameType

from trainer_contract.exit_codes import ExitCode
from trainer_contract.job_lifecycle import FINAL_REPORT_SECONDS

__all__ = [
    "Terminated",
    "clear",
    "exit_now",
    "install_if_default",
    "on_sigterm",
    "report_deadline",
]


class Terminated(BaseException):
    """The process was asked to stop (SIGTERM: the pod is being deleted or the job cancelled).

    A BaseException, like KeyboardInterrupt, so that a trainer's `except Exception` does not
    swallow it; `run` and `TrainerSDK.close` report it as a failure before the process exits.
    """


_requested_at: float | None = None
_owner_pid = os.getpid()


def report_deadline() -> float | None:
    """When the failure report of a stop must be delivered (`time.monotonic()`), or None
    when no stop was requested."""
    return None if _requested_at is None else _requested_at + FINAL_REPORT_SECONDS


def clear() -> None:
    """Forget a stop request (when the handler that took it is removed)."""
    global _requested_at
    _requested_at = None


def on_sigterm(signum: int, frame: FrameType | None) -> None:
    """The first SIGTERM: raise `Terminated` in the main thread; later ones end the process."""
    global _requested_at
    if os.getpid() != _owner_pid:
        # A forked worker: behave as if nothing were installed.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
        return
    _requested_at = time.monotonic()
    # From now on the process is reporting its stop: a second signal must not interrupt that
    # report with another traceback, it ends the process.
    signal.signal(signal.SIGTERM, exit_now)
    raise Terminated(f"received signal {signal.Signals(signum).name}; the job was stopped")


def exit_now(signum: int, frame: FrameType | None) -> None:
    """The second SIGTERM: leave at once, quietly (the outbox keeps what was not delivered)."""
    with contextlib.suppress(Exception):
        sys.stdout.flush()
    with contextlib.suppress(Exception):
        os.write(
            2,
            b"trainer-sdk: second SIGTERM: exiting now without waiting for the backend; "
            b"what was not delivered stays in the outbox\n",
        )
    os._exit(int(ExitCode.CALLBACK_FAILURE))


def install_if_default() -> bool:
    """Install `on_sigterm` when SIGTERM still has Python's default handling and this is the
    main thread (Python's rule); True when it is installed now or was already."""
    global _owner_pid
    if threading.current_thread() is not threading.main_thread():
        return False
    current = signal.getsignal(signal.SIGTERM)
    if current in (on_sigterm, exit_now):
        return True
    if current is not signal.SIG_DFL:
        return False  # the trainer or its framework handles SIGTERM itself
    _owner_pid = os.getpid()
    signal.signal(signal.SIGTERM, on_sigterm)
    return True
