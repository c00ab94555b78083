"""TRL104 secret-in-image.

How it is checked: every `ENV` and `ARG` pair of every stage (and the `ARG`s before the first
`FROM`) that gives a non-empty value, when the name is one of
`trainer_contract.env.SECRET_ENV_VARS` or contains, as whole `_`-separated words, one of the
vocabulary's `secret_name_parts` (`SECRET*`, `TOKEN`, `PASSWORD*`, `API_KEY`, ...). A value that
copies a build argument (`ENV HF_TOKEN=$HF_TOKEN`) is reported too: it stores the argument in the
image. The finding points at the name and never repeats the value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from trainer_tools.secret_names import looks_secret
from trainer_tools.trainer_lint.dockerfile.analysis import DockerfileAnalysis
from trainer_tools.trainer_lint.dockerfile.words import key_values
from trainer_tools.trainer_lint.finding import Finding

CODE = "TRL104"


def _secret(name: str, analysis: DockerfileAnalysis) -> bool:
    return looks_secret(name)


def check(analysis: DockerfileAnalysis) -> Iterator[Finding]:
    """Report secrets given a value in ENV or ARG."""
    facts = analysis.facts
    for instruction in analysis.dockerfile.instructions:
        if instruction.keyword not in ("ENV", "ARG"):
            continue
        for name, value in key_values(instruction.arguments):
            if value is None or not value.strip() or not _secret(name, analysis):
                continue
            where = (
                "the platform sets it at run time from the Job's Secret"
                if name.upper() in facts.secret_env_vars
                else "pass it at run time (a Kubernetes Secret), or at build time with "
                "`RUN --mount=type=secret`"
            )
            span = instruction.locate(re.compile(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?=[=\s])"))
            yield analysis.finding(
                CODE,
                instruction,
                f"{instruction.keyword} {name} puts a secret value into the image, where anyone "
                f"who can pull it can read it: remove the value; {where}",
                span,
            )
