"""Read a file to lint the way Python (or Docker) would, without ever blocking or crashing.

- Python sources are decoded as the interpreter decodes them (`importlib.util.decode_source`):
  a UTF-8 BOM, a PEP 263 coding cookie (`# -*- coding: latin-1 -*-`) and universal newlines.
- Dockerfiles are UTF-8; a leading BOM is dropped, as Docker's parser does.
- Only regular files are read. A FIFO, socket or device is refused before a single byte is read
  (opening with `O_NONBLOCK` and checking the opened file, so a FIFO with no writer cannot hang
  the linter); standard input is read with `trainer-lint -`. A dangling symbolic link is an error
  that names its target, never a traceback.
"""

from __future__ import annotations

import importlib.util
import os
import stat
from pathlib import Path

__all__ = ["SourceReadError", "decode_dockerfile", "decode_python", "read_bytes"]

_KINDS = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISDIR, "a folder"),
)


class SourceReadError(Exception):
    """The file could not be read as text; the message says why and what to do, `line` where."""

    def __init__(self, message: str, line: int = 1) -> None:
        super().__init__(message)
        self.line = line


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def read_bytes(path: Path) -> bytes:
    """The bytes of a regular file; anything else raises `SourceReadError`."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        if path.is_symlink():
            raise SourceReadError(
                f"broken symbolic link to {os.readlink(path)!r}: its target does not exist"
            ) from None
        raise SourceReadError("no such file") from None
    except IsADirectoryError:
        raise SourceReadError("is a folder") from None
    except OSError as exc:
        raise SourceReadError(f"cannot open it: {exc.strerror or exc}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise SourceReadError(
                f"{_kind(mode)}, not a regular file: not read; to lint text from a pipe, "
                "use `trainer-lint -` (standard input)"
            )
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read()
    except OSError as exc:
        raise SourceReadError(f"cannot read it: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def decode_python(data: bytes) -> str:
    """Python source text as the interpreter reads it (BOM, coding cookie, newlines)."""
    try:
        return importlib.util.decode_source(data)
    except SyntaxError as exc:  # not UTF-8 without a cookie, an unknown encoding, a BOM + cookie
        raise SourceReadError(
            f"cannot decode it as Python would: {exc.msg}; save it as UTF-8 or declare its "
            "encoding on the first or second line (`# -*- coding: latin-1 -*-`)"
        ) from None
    except UnicodeDecodeError as exc:
        raise SourceReadError(
            f"not valid {exc.encoding} text at byte {exc.start} ({exc.reason}); declare its "
            "encoding with a coding cookie (`# -*- coding: latin-1 -*-`) or save it as UTF-8",
            _line_of(data, exc.start),
        ) from None
    except LookupError as exc:
        raise SourceReadError(f"cannot decode it: {exc}") from None


def decode_dockerfile(data: bytes) -> str:
    """A Dockerfile's text: UTF-8, a leading BOM dropped."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceReadError(
            f"not UTF-8 text at byte {exc.start} ({exc.reason})", _line_of(data, exc.start)
        ) from None
