"""TRL108 retired-apt-package.

How it is checked: the simple commands of every `RUN` (shell form, exec form and heredocs) that
start with one of the vocabulary's `apt_installers` (`apt-get install`, after `sudo` or variable
assignments); each package word (not an option, an optional `=version` or `/release` cut off) is
looked up in `retired_apt_packages`, which names the replacement.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from trainer_tools.trainer_lint.dockerfile.analysis import DockerfileAnalysis
from trainer_tools.trainer_lint.dockerfile.words import simple_commands
from trainer_tools.trainer_lint.finding import Finding

CODE = "TRL108"

_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


def _packages(command: list[str], installers: tuple[tuple[str, ...], ...]) -> list[str]:
    words = list(command)
    while words and (words[0] == "sudo" or _ASSIGNMENT.match(words[0])):
        words = words[1:]
    for installer in installers:
        if tuple(words[: len(installer)]) == installer:
            return [w for w in words[len(installer) :] if not w.startswith("-")]
    # `apt-get -y install x`: options before the verb.
    if words and any(words[0] == i[0] for i in installers):
        verbs = [w for w in words[1:] if not w.startswith("-")]
        if verbs and verbs[0] == "install":
            return verbs[1:]
    return []


def check(analysis: DockerfileAnalysis) -> Iterator[Finding]:
    """Report packages the base image's release no longer ships."""
    facts = analysis.facts
    retired = facts.retired_apt_packages
    for instruction in analysis.dockerfile.instructions:
        if instruction.keyword != "RUN":
            continue
        scripts = (
            [" ".join(instruction.exec_form)]
            if instruction.exec_form is not None
            else [instruction.arguments, *instruction.heredocs]
        )
        for script in scripts:
            for command in simple_commands(script.replace("\\\n", " ")):
                for word in _packages(command, facts.apt_installers):
                    name = re.split(r"[=/]", word, maxsplit=1)[0]
                    replacement = retired.get(name)
                    if replacement is None:
                        continue
                    yield analysis.finding(
                        CODE,
                        instruction,
                        f"apt package `{name}` is not in {facts.retired_apt_release}: the "
                        f"install fails (no installation candidate); install "
                        f"`{replacement}` instead",
                        instruction.locate(
                            re.compile(r"(?<![\w.+-])" + re.escape(name) + r"(?![\w.+-])")
                        ),
                    )
