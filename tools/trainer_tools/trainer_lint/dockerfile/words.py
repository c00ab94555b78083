"""Words of Dockerfile arguments: quoting, `$VAR` substitution, `KEY=value` pairs, shell commands.

Docker substitutes `$NAME`, `${NAME}`, `${NAME:-default}` and `${NAME:+alternative}` from `ARG`
and `ENV` in most instructions; the shell, not Docker, expands them in `RUN` and in shell-form
`CMD`. A variable the Dockerfile does not define (a build argument given on the command line)
cannot be known: callers get None and must not report what they cannot see.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping

__all__ = ["expand", "key_values", "simple_commands", "split_words"]

_VARIABLE = re.compile(
    r"\\\$|\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-+])(?P<word>[^}]*))?\}"
    r"|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))"
)
# Shell control operators that end a simple command.
_OPERATORS = frozenset({";", "&&", "||", "|", "&", ";;", "|&"})


def expand(text: str, variables: Mapping[str, str | None], *, partial: bool = False) -> str | None:
    """`text` with its variables substituted; None when one of them is unknown, unless
    `partial`, where an unknown variable becomes empty (for search paths such as
    `PATH=/opt/venv/bin:$PATH`, whose inherited part the Dockerfile cannot see)."""
    unknown = False

    def substitute(match: re.Match[str]) -> str:
        nonlocal unknown
        if match.group(0) == "\\$":
            return "$"
        name = match.group("braced") or match.group("plain")
        value = variables.get(name)
        op = match.group("op")
        if op is not None:
            is_set = value is not None and (value != "" or not op.startswith(":"))
            if op.endswith("-"):
                return value if is_set and value is not None else match.group("word")
            return match.group("word") if is_set else ""
        if value is None:
            unknown = True
            return ""
        return value

    result = _VARIABLE.sub(substitute, text)
    return None if unknown and not partial else result


def split_words(text: str) -> list[str]:
    """Whitespace-separated words with quotes removed (`"a b" c` -> `a b`, `c`)."""
    try:
        return shlex.split(text, comments=False, posix=True)
    except ValueError:  # an unbalanced quote: Docker fails too, keep going with the raw words
        return text.split()


def key_values(arguments: str) -> list[tuple[str, str | None]]:
    """The pairs of `ENV`, `ARG` or `LABEL`: `A=1 B="x y"`, the legacy `ENV A value with
    spaces`, or a bare `ARG A` (value None)."""
    words = split_words(arguments)
    if not words:
        return []
    if "=" not in words[0]:
        # `ENV NAME value...` (legacy form: one pair, the rest of the line is the value) or a
        # bare `ARG NAME`.
        rest = arguments.strip()[len(arguments.strip().split(None, 1)[0]) :].strip()
        if rest:
            joined = split_words(rest)
            return [(words[0], " ".join(joined))]
        return [(words[0], None)]
    pairs: list[tuple[str, str | None]] = []
    for word in words:
        name, equals, value = word.partition("=")
        pairs.append((name, value if equals else None))
    return pairs


def simple_commands(script: str) -> list[list[str]]:
    """The simple commands of a shell script, as word lists (`a && b; c | d` -> a, b, c, d).

    Subshells, functions and control flow are not followed: the words of `if`/`then` bodies
    still come out as commands, which is what a check for `pip install` needs.
    """
    commands: list[list[str]] = []
    for line in script.splitlines() or [script]:
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        try:
            tokens = list(lexer)
        except ValueError:  # unbalanced quotes
            tokens = line.split()
        current: list[str] = []
        for token in tokens:
            if token in _OPERATORS:
                if current:
                    commands.append(current)
                current = []
            else:
                current.append(token)
        if current:
            commands.append(current)
    return commands
