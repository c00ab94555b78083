"""`run(main)`: the documented entry helper that turns a trainer's outcome into an exit code.

    from trainer_sdk import run

    def main(sdk):            # or main() that creates its own TrainerSDK
        sdk.report_started('training')
        ...
        sdk.report_completed(...)

    if __name__ == "__main__":
        run(main)

- `main` returns normally (None or 0): exit 0.
- `main` raises: the exception is reported with `report_failed` (ErrorType from the exception:
  out of memory -> RESOURCE_ERROR, the SDK's dataset/config/checkpoint/network errors -> their
  type, anything else -> UNKNOWN_ERROR) with the traceback, then exit 1.
- the backend could not be reached after the retries (`CallbackDeliveryError`, from any
  callback): exit 2, with a message on stderr naming the outbox that holds what was not sent.
- `main` returns another integer: that exit code; a non-zero one without a failure report is
  reported as a failure first, so the backend never sees a silent exit.
- SIGTERM (the pod is deleted) raises `Terminated` inside `main`; it is reported as a failure
  and the exit code is 1. The report is bounded by the contract's `FINAL_REPORT_SECONDS` from
  the signal (inside the Job's grace period, `TERMINATION_GRACE_SECONDS`, both from
  lifecycle.json): the queue may drain for half of that time, then the failure is sent ahead of
  whatever is stuck, and the process exits without waiting for the rest (it stays in the
  outbox). A second SIGTERM exits at once, with one line on stderr and exit code 2 (the failure
  report may not have been delivered; it is in the outbox).
"""

from __future__ import annotations

import inspect
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from trainer_contract.exit_codes import ExitCode
from trainer_sdk import termination
from trainer_sdk.client import TrainerSDK, current_sdk
from trainer_sdk.errors import CallbackDeliveryError, TrainerSDKError
from trainer_sdk.termination import Terminated

__all__ = ["Terminated", "run"]


@contextmanager
def _sigterm_as_exception() -> Iterator[None]:
    """Turn SIGTERM into `Terminated` while `main` runs (main thread only: Python's rule)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, termination.on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
        termination.clear()


def _wants_sdk(main: Callable[..., Any]) -> bool:
    """True when `main` takes one positional parameter (the SDK run creates for it)."""
    try:
        parameters = inspect.signature(main).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = [
        p
        for p in parameters
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
    ]
    return len(positional) == 1


def _say(message: str) -> None:
    print(f"trainer-sdk: {message}", file=sys.stderr, flush=True)


def _unreachable(sdk: TrainerSDK | None, exc: CallbackDeliveryError) -> int:
    _say(
        f"exit code {int(ExitCode.CALLBACK_FAILURE)}: the backend could not be reached "
        f"after retries. {exc}"
    )
    if sdk is not None:
        sdk.abandon()
    return int(ExitCode.CALLBACK_FAILURE)


def _report(sdk: TrainerSDK | None, exc: BaseException, trace: str) -> int:
    """Report a failure; the exit code that results."""
    if sdk is None:
        try:
            sdk = TrainerSDK()
        except TrainerSDKError as config_error:
            _say(f"the failure could not be reported: {config_error}")
            return int(ExitCode.TRAINING_FAILURE)
    deadline = termination.report_deadline() if isinstance(exc, Terminated) else None
    stopping = deadline is not None
    if deadline is not None:
        sdk._bound_final_report(deadline)
    try:
        sdk.report_exception(exc, trace)
    except CallbackDeliveryError as delivery_error:
        return _unreachable(sdk, delivery_error)
    except TrainerSDKError as report_error:
        _say(f"the failure could not be reported: {report_error}")
    if stopping:
        sdk.abandon()  # no waiting for callbacks still stuck: they stay in the outbox
    else:
        sdk.close()
    return int(ExitCode.TRAINING_FAILURE)


def _execute(main: Callable[..., Any]) -> int:
    own: TrainerSDK | None = None
    try:
        if _wants_sdk(main):
            own = TrainerSDK()
            result = main(own)
        else:
            result = main()
    except CallbackDeliveryError as exc:
        return _unreachable(own or current_sdk(), exc)
    except SystemExit as exc:
        if exc.code in (None, 0):
            result = 0
        elif isinstance(exc.code, int):
            result = exc.code
        else:
            _say(str(exc.code))
            result = int(ExitCode.TRAINING_FAILURE)
    except BaseException as exc:  # KeyboardInterrupt too: the job still failed
        trace = traceback.format_exc()
        print(trace, file=sys.stderr, end="", flush=True)
        return _report(own or current_sdk(), exc, trace)

    sdk = own or current_sdk()
    code = 0 if result is None else int(result)
    if code != 0 and sdk is not None and sdk.terminal_state is None:
        failure = RuntimeError(f"main() returned exit code {code} without reporting a failure")
        _report(sdk, failure, "")
        return code
    if sdk is not None:
        sdk.close()
        if code == 0 and sdk.terminal_state is None and sdk.is_reporting:
            _say(
                "main() returned without report_completed(); the backend was not told that "
                "the job finished"
            )
    return code


def run(main: Callable[..., Any], *, exit: bool = True) -> int:
    """Run `main` (with a `TrainerSDK` when it takes one argument) and exit with the contract's
    code: 0 success, 1 training failure (reported with its ErrorType and traceback), 2 backend
    unreachable. With `exit=False` the code is returned instead of exiting."""
    with _sigterm_as_exception():
        code = _execute(main)
    if exit:
        sys.exit(code)
    return code
