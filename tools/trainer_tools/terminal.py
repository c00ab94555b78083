"""How the commands talk to a terminal: colour, width, and a reader that went away.

- Colour only on a terminal, never when `NO_COLOR` is set to anything non-empty
  (https://no-color.org), always with `--color always`.
- The width is the terminal's (`shutil.get_terminal_size`, which honours `COLUMNS`).
- A closed pipe (`trainer-lint . | head`) ends the command quietly, as the Python documentation
  recommends (`signal` module, "Note on SIGPIPE"): no traceback, stdout pointed at `/dev/null` so
  that the interpreter's final flush does not raise again, exit status 1.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from typing import TextIO

__all__ = ["COLOR_CHOICES", "quiet_pipe", "terminal_width", "use_color"]

COLOR_CHOICES = ("auto", "always", "never")
BROKEN_PIPE_STATUS = 1
"""The exit status when the reader of stdout went away before everything was written."""


def use_color(choice: str = "auto", stream: TextIO | None = None) -> bool:
    """Whether to paint output: `always`, `never`, or `auto` (a terminal without `NO_COLOR`)."""
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    target = sys.stdout if stream is None else stream
    isatty = getattr(target, "isatty", None)
    return bool(isatty is not None and isatty())


def terminal_width(fallback: int = 100) -> int:
    """The terminal's columns (`COLUMNS` wins; `fallback` when stdout is not a terminal)."""
    return shutil.get_terminal_size((fallback, 24)).columns


def _silence_stdout() -> None:
    # Python's documented recipe: point stdout at devnull so the interpreter's final flush at
    # exit does not raise BrokenPipeError a second time.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def quiet_pipe(main: Callable[[], int]) -> int:
    """Run `main()`; a closed stdout (`| head`) ends it quietly with status 1."""
    try:
        try:
            status = main()
        finally:
            # Also after argparse's --help/--version (SystemExit): what is still buffered is
            # written now, so a closed pipe is noticed here and not at the interpreter's exit.
            sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
        return BROKEN_PIPE_STATUS
    return status
