"""`# noqa` comments: `# noqa: TRL004` silences that code on its line, a bare `# noqa` every code."""

from __future__ import annotations

import io
import re
import tokenize

__all__ = ["ALL", "noqa_lines"]

ALL = "*"
_NOQA = re.compile(
    r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*))?", re.IGNORECASE
)


def noqa_lines(text: str) -> dict[int, frozenset[str]]:
    """Line -> codes silenced there (`{"*"}` for a bare `# noqa`). Comments only, not strings."""
    if "noqa" not in text.lower():
        return {}
    found: dict[int, frozenset[str]] = {}
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return {}
    for token in tokens:
        if token.type != tokenize.COMMENT:
            continue
        match = _NOQA.search(token.string)
        if match is None:
            continue
        codes = match.group("codes")
        line = token.start[0]
        if codes is None:
            found[line] = frozenset({ALL})
        else:
            found[line] = found.get(line, frozenset()) | {
                c.upper() for c in re.split(r"[\s,]+", codes) if c
            }
    return found
