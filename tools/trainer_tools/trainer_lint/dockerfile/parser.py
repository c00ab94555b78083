"""Parse a Dockerfile into instructions and stages, with the positions users see in an editor.

What Docker (BuildKit's frontend) does, and so what this parser does:

- Parser directives (`# syntax=...`, `# escape=...`, `# check=...`) count only at the very top,
  before any comment, blank line or instruction. `# escape=`` ` `` makes the backtick the line
  continuation character (Windows paths).
- A line ending with the escape character continues on the next one; comment lines and blank
  lines inside a continued instruction are dropped. A `#` is a comment only at the start of a
  line: `COPY a b  # note` copies a file named `#`.
- `RUN`, `COPY` and `ADD` may carry heredocs (`RUN <<EOF ... EOF`), whose bodies are part of
  the instruction.
- `CMD`, `ENTRYPOINT`, `RUN` (and `SHELL`) in exec form are a JSON array of strings; anything else
  (including invalid JSON) is shell form.
- Each `FROM` starts a stage; `ARG` may come before the first `FROM` (it is then visible to the
  `FROM` lines only). Flags such as `--from=` or `--platform=` come first after the keyword.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from trainer_tools.trainer_lint.source import TrainerSyntaxError

__all__ = [
    "INSTRUCTIONS",
    "Dockerfile",
    "DockerfileSyntaxError",
    "Instruction",
    "Stage",
    "parse_dockerfile",
]

# Every instruction Docker knows; anything else fails the build, so it fails the lint.
INSTRUCTIONS = frozenset(
    {
        "ADD",
        "ARG",
        "CMD",
        "COPY",
        "ENTRYPOINT",
        "ENV",
        "EXPOSE",
        "FROM",
        "HEALTHCHECK",
        "LABEL",
        "MAINTAINER",
        "ONBUILD",
        "RUN",
        "SHELL",
        "STOPSIGNAL",
        "USER",
        "VOLUME",
        "WORKDIR",
    }
)
_DIRECTIVES = frozenset({"syntax", "escape", "check"})
_DIRECTIVE = re.compile(r"^#\s*([A-Za-z][A-Za-z0-9]*)\s*=\s*(.*?)\s*$")
_HEREDOC = re.compile(r"<<(-?)(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\2")
_HEREDOC_INSTRUCTIONS = frozenset({"RUN", "COPY", "ADD"})
_EXEC_FORM_INSTRUCTIONS = frozenset({"CMD", "ENTRYPOINT", "RUN", "SHELL"})
# Instructions that take `--name=value` flags; elsewhere `--x` is an argument (`CMD --help`).
_FLAG_INSTRUCTIONS = frozenset({"FROM", "COPY", "ADD", "RUN", "HEALTHCHECK"})


class DockerfileSyntaxError(TrainerSyntaxError):
    """The Dockerfile cannot be built as written (unknown instruction, no `FROM`, a bad
    directive); carries the line so the CLI can point at it."""

    def __init__(self, path: str, line: int, column: int, message: str) -> None:
        super().__init__(path, line, column, message, "Dockerfile error")


@dataclass(frozen=True)
class Instruction:
    """One instruction: its keyword, flags and arguments, and where it is in the file."""

    keyword: str
    """Upper case (`COPY`), whatever case the file uses."""
    arguments: str
    """The text after the keyword and its flags, continuation lines joined."""
    flags: Mapping[str, str | None]
    """Leading `--name=value` (or bare `--name`) options, e.g. `{"from": "builder"}`."""
    line: int
    column: int
    end_line: int
    end_column: int
    """1-based; the end column is one past the last character, as in Python's ast."""
    heredocs: tuple[str, ...] = ()
    """Bodies of the instruction's heredocs, in order."""
    exec_form: tuple[str, ...] | None = None
    """The JSON array of an exec-form `CMD`/`ENTRYPOINT`/`RUN`/`SHELL`, else None."""
    lines: tuple[tuple[int, str], ...] = field(default=(), repr=False)
    """(line number, text) of the physical lines the instruction spans, comments excluded."""

    def locate(self, pattern: re.Pattern[str]) -> tuple[int, int, int, int]:
        """(line, column, end line, end column) of the first match of `pattern` in the
        instruction's own lines, or the whole instruction when it does not match."""
        for number, text in self.lines:
            match = pattern.search(text)
            if match is not None:
                return number, match.start() + 1, number, match.end() + 1
        return self.line, self.column, self.end_line, self.end_column


@dataclass(frozen=True)
class Stage:
    """A build stage: its `FROM`, its name, and the instructions up to the next `FROM`."""

    index: int
    base: str
    """The image or stage it starts from, as written (variables not yet substituted)."""
    name: str | None
    """The `AS` name, lower case (stage names are case-insensitive), or None."""
    origin: Instruction
    """The `FROM` instruction."""
    instructions: tuple[Instruction, ...]


@dataclass(frozen=True)
class Dockerfile:
    """A parsed Dockerfile."""

    path: str
    text: str
    directives: Mapping[str, str]
    """Parser directives by lower-case name (`syntax`, `escape`, `check`)."""
    escape: str
    instructions: tuple[Instruction, ...]
    comments: Mapping[int, str]
    """Line number -> text of every comment line (directives excluded), stripped."""
    global_args: tuple[Instruction, ...]
    """`ARG` instructions before the first `FROM`."""
    stages: tuple[Stage, ...]

    @property
    def final(self) -> Stage:
        """The last stage: the image `docker build` produces without `--target`."""
        return self.stages[-1]

    def stage_named(self, reference: str) -> Stage | None:
        """The stage a `FROM` or `COPY --from=` names (an `AS` name or an index), if any."""
        wanted = reference.strip().lower()
        for stage in self.stages:
            if stage.name == wanted:
                return stage
        if wanted.isdigit() and int(wanted) < len(self.stages):
            return self.stages[int(wanted)]
        return None


def _directives(lines: list[str], path: str) -> tuple[dict[str, str], int]:
    """The directives at the top of the file and the index of the first line after them."""
    found: dict[str, str] = {}
    index = 0
    while index < len(lines):
        match = _DIRECTIVE.match(lines[index])
        if match is None:
            break
        name = match.group(1).lower()
        if name not in _DIRECTIVES:
            break  # an unknown directive is a comment, and ends the directives
        if name in found:
            raise DockerfileSyntaxError(
                path, index + 1, 1, f"the {name} directive is given twice; keep one"
            )
        found[name] = match.group(2)
        index += 1
    escape = found.get("escape", "\\")
    if escape not in ("\\", "`"):
        raise DockerfileSyntaxError(
            path, 1, 1, f"escape directive {escape!r}: the escape character is \\ or ` (backtick)"
        )
    return found, index


def _continues(text: str, escape: str) -> bool:
    # BuildKit's rule: the escape character, then only spaces or tabs, ends the line.
    return text.rstrip(" \t").endswith(escape)


def _flags(text: str) -> tuple[dict[str, str | None], str]:
    """Leading `--name[=value]` flags, and the rest of the text."""
    flags: dict[str, str | None] = {}
    rest = text
    while rest.startswith("--"):
        token, _, remainder = rest.partition(" ")
        name, equals, value = token[2:].partition("=")
        if not name:
            break
        flags[name.lower()] = value if equals else None
        rest = remainder.lstrip()
    return flags, rest


def _exec_form(arguments: str) -> tuple[str, ...] | None:
    stripped = arguments.strip()
    if not stripped.startswith("["):
        return None
    try:
        value = json.loads(stripped)
    except ValueError:
        return None  # Docker runs invalid JSON as a shell command; so do we
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    return None


def _split_stages(
    path: str, instructions: list[Instruction]
) -> tuple[tuple[Instruction, ...], tuple[Stage, ...]]:
    global_args: list[Instruction] = []
    stages: list[Stage] = []
    current: tuple[Instruction, list[Instruction]] | None = None

    def close() -> None:
        if current is None:
            return
        origin, body = current
        words = origin.arguments.split()
        if not words:
            raise DockerfileSyntaxError(
                path,
                origin.line,
                origin.column,
                "FROM needs an image, e.g. `FROM python:3.11-slim`",
            )
        name = None
        if len(words) >= 3 and words[1].lower() == "as":
            name = words[2].lower()
        elif len(words) != 1:
            raise DockerfileSyntaxError(
                path,
                origin.line,
                origin.column,
                "FROM takes an image and an optional `AS name`, e.g. `FROM python:3.11 AS builder`",
            )
        stages.append(Stage(len(stages), words[0], name, origin, tuple(body)))

    for instruction in instructions:
        if instruction.keyword == "FROM":
            close()
            current = (instruction, [])
        elif current is not None:
            current[1].append(instruction)
        elif instruction.keyword == "ARG":
            global_args.append(instruction)
        else:
            raise DockerfileSyntaxError(
                path,
                instruction.line,
                instruction.column,
                f"{instruction.keyword} before the first FROM: only ARG may come before FROM",
            )
    close()
    if not stages:
        raise DockerfileSyntaxError(
            path, 1, 1, "no FROM instruction: a Dockerfile starts its stage with `FROM <image>`"
        )
    return tuple(global_args), tuple(stages)


def parse_dockerfile(text: str, path: str = "Dockerfile") -> Dockerfile:
    """Parse a Dockerfile; raises `DockerfileSyntaxError` with the line of the problem."""
    if "\x00" in text:
        raise DockerfileSyntaxError(path, 1, 1, "the file contains NUL bytes: not a text file")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[0].startswith("\ufeff"):
        lines[0] = lines[0][1:]
    directives, index = _directives(lines, path)
    escape = directives.get("escape", "\\")
    instructions: list[Instruction] = []
    comments: dict[int, str] = {}
    while index < len(lines):
        raw = lines[index]
        stripped = raw.strip()
        if not stripped:
            index += 1
            continue
        if stripped.startswith("#"):
            comments[index + 1] = stripped
            index += 1
            continue
        start = index
        physical: list[tuple[int, str]] = []
        pieces: list[str] = []
        while True:
            current = lines[index]
            physical.append((index + 1, current))
            if _continues(current, escape) and index + 1 < len(lines):
                pieces.append(current.rstrip(" \t")[:-1])
                index += 1
                # Comment and blank lines inside a continued instruction are dropped.
                while index < len(lines) and (
                    not lines[index].strip() or lines[index].lstrip().startswith("#")
                ):
                    if lines[index].strip():
                        comments[index + 1] = lines[index].strip()
                    index += 1
                if index >= len(lines):
                    break
                continue
            pieces.append(current.rstrip(" \t")[:-1] if _continues(current, escape) else current)
            break
        joined = "".join(pieces).strip()
        keyword, _, rest = joined.partition(" ")
        if "\t" in keyword:
            keyword, _, more = keyword.partition("\t")
            rest = f"{more} {rest}".strip()
        keyword_upper = keyword.upper()
        column = len(raw) - len(raw.lstrip()) + 1
        if keyword_upper not in INSTRUCTIONS:
            raise DockerfileSyntaxError(
                path,
                start + 1,
                column,
                f"unknown instruction {keyword!r}: instructions are "
                f"{', '.join(sorted(INSTRUCTIONS))}",
            )
        if keyword_upper in _FLAG_INSTRUCTIONS:
            flags, arguments = _flags(rest.strip())
        else:
            flags, arguments = {}, rest.strip()
        heredocs: list[str] = []
        if keyword_upper in _HEREDOC_INSTRUCTIONS and "<<" in arguments:
            for match in _HEREDOC.finditer(arguments):
                strip_tabs, word = match.group(1) == "-", match.group(3)
                body: list[str] = []
                index += 1
                while index < len(lines):
                    candidate = lines[index].lstrip("\t") if strip_tabs else lines[index]
                    physical.append((index + 1, lines[index]))
                    if candidate == word:
                        break
                    body.append(candidate)
                    index += 1
                else:
                    raise DockerfileSyntaxError(
                        path, start + 1, column, f"heredoc <<{word} is never closed by {word}"
                    )
                heredocs.append("\n".join(body) + "\n")
        end_line, end_text = physical[-1]
        exec_form = _exec_form(arguments) if keyword_upper in _EXEC_FORM_INSTRUCTIONS else None
        instructions.append(
            Instruction(
                keyword=keyword_upper,
                arguments=arguments,
                flags=MappingProxyType(flags),
                line=start + 1,
                column=column,
                end_line=end_line,
                end_column=len(end_text.rstrip()) + 1,
                heredocs=tuple(heredocs),
                exec_form=exec_form,
                lines=tuple(physical),
            )
        )
        index += 1
    global_args, stages = _split_stages(path, instructions)
    return Dockerfile(
        path=path,
        text=text,
        directives=MappingProxyType(directives),
        escape=escape,
        instructions=tuple(instructions),
        comments=MappingProxyType(comments),
        global_args=global_args,
        stages=stages,
    )
