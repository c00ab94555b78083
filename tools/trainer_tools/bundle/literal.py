"""Python literals for embedded text that stay readable (the bundled source looks like source)."""

from __future__ import annotations

import ast
import re

# Characters the tokenizer would change (a carriage return becomes a newline) or that no one can
# read in a text editor; they are written as \x escapes.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def text_literal(text: str) -> str:
    """A string literal that evaluates to exactly `text`, triple-quoted when possible."""
    literal = repr(text)
    for quote in ('"""', "'''"):
        if quote in text:
            continue
        body = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text.replace("\\", "\\\\"))
        if body.endswith(quote[0]):
            body = body[:-1] + "\\" + quote[0]
        literal = quote + body + quote
        break
    # The safety net: whatever the text holds, the bundle must give back the very same string.
    if ast.literal_eval(literal) != text:
        literal = repr(text)
    return literal


def data_literal(content: bytes) -> str:
    """A literal for a data file: text when it is UTF-8, bytes otherwise."""
    try:
        return text_literal(content.decode("utf-8"))
    except UnicodeDecodeError:
        return repr(content)
