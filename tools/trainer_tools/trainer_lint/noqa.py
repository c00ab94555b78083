"""`# noqa` comments: `# noqa: TRL004` silences that code on its line, a bare `# noqa` every code.

In a Dockerfile `#` starts a comment only at the start of a line (`USER root # noqa` would make
`root # noqa` the user name), so a `# noqa: TRL103` comment line applies to the instruction right
below it; a `# noqa` at the end of an instruction's own line is honoured too, for the
instructions where Docker ignores extra words.
"""

from __future__ import annotations

import io
import re
import tokenize

from trainer_tools.trainer_lint.dockerfile.parser import Dockerfile

__all__ = ["ALL", "dockerfile_noqa_lines", "noqa_lines"]

ALL = "*"
_NOQA = re.compile(
    r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*))?", re.IGNORECASE
)


def noqa_lines(text: str) -> dict[int, frozenset[str]]:
    """Line -> codes silenced there (`{"*"}` for a bare `# noqa`). Comments only, not strings."""
    if _NOQA.search(text) is None:
        return {}  # no noqa comment anywhere (one regex search costs a tenth of lowering the text)
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


def _codes(match: re.Match[str]) -> frozenset[str]:
    codes = match.group("codes")
    if codes is None:
        return frozenset({ALL})
    return frozenset(c.upper() for c in re.split(r"[\s,]+", codes) if c)


def dockerfile_noqa_lines(dockerfile: Dockerfile) -> dict[int, frozenset[str]]:
    """Line -> codes silenced there, for every line of every instruction of a Dockerfile.

    An instruction is silenced by `# noqa` comment lines directly above it (no blank line in
    between) and by a `# noqa` on one of its own lines.
    """
    if "noqa" not in dockerfile.text.lower():
        return {}
    found: dict[int, frozenset[str]] = {}
    for instruction in dockerfile.instructions:
        codes: frozenset[str] = frozenset()
        above = instruction.line - 1
        while above in dockerfile.comments:
            match = _NOQA.search(dockerfile.comments[above])
            if match is not None:
                codes |= _codes(match)
            above -= 1
        for _, text in instruction.lines:
            match = _NOQA.search(text)
            if match is not None:
                codes |= _codes(match)
        if codes:
            for line in range(instruction.line, instruction.end_line + 1):
                found[line] = found.get(line, frozenset()) | codes
    return found
