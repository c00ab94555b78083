"""TRL106 comment-after-instruction.

How it is checked: every instruction of the file except `RUN` and the shell forms of `CMD`,
`ENTRYPOINT` and `HEALTHCHECK` (a shell reads `#` there as its comment): the first word of the
arguments that starts with `#` after whitespace. The finding points at the `#` and quotes what
follows it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from trainer_tools.trainer_lint.dockerfile.analysis import DockerfileAnalysis
from trainer_tools.trainer_lint.finding import Finding

CODE = "TRL106"

# Instructions whose text a shell runs: there `#` is the shell's comment, which works.
_SHELL_RUN = frozenset({"RUN"})
_SHELL_FORM = frozenset({"CMD", "ENTRYPOINT", "HEALTHCHECK", "SHELL", "ONBUILD"})
_NOTE = re.compile(r"(?<=\s)#.*$")


def check(analysis: DockerfileAnalysis) -> Iterator[Finding]:
    """Report a `# note` after the arguments of an instruction that has no shell to read it."""
    for instruction in analysis.dockerfile.instructions:
        keyword = instruction.keyword
        if keyword in _SHELL_RUN or (keyword in _SHELL_FORM and instruction.exec_form is None):
            continue
        if instruction.heredocs:
            continue
        match = _NOTE.search(instruction.arguments)
        if match is None:
            continue
        note = match.group().strip()
        before = instruction.arguments[: match.start()].rstrip()
        shown = note if len(note) <= 40 else note[:39] + "…"
        yield analysis.finding(
            CODE,
            instruction,
            f"`{shown}` is not a comment here: Docker reads it as more arguments of {keyword} "
            f"(comments must start a line); move it to its own line above: "
            f"`{shown}` then `{keyword} {before}`",
            instruction.locate(re.compile(r"(?<=\s)#.*$")),
        )
