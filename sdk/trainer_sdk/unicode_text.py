"""Text that UTF-8 can carry: lone surrogates replaced by U+FFFD.

Python strings may hold lone surrogates (`'\\udcff'`): `os.listdir` and `sys.argv` decode file
names that are not UTF-8 that way, and exception messages quote them. No UTF-8 encoder, JSON
document or database column can hold one, so every string the SDK sends or spools passes
through `utf8_safe`, which keeps the length (one U+FFFD per surrogate) and is free for ASCII.
"""

from __future__ import annotations

import re

__all__ = ["utf8_safe"]

_SURROGATES = re.compile("[\ud800-\udfff]")


def utf8_safe(value: str) -> str:
    """`value` with each lone surrogate replaced by U+FFFD (the same object when it has none)."""
    if value.isascii():
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATES.sub("\ufffd", value)
    return value
