"""TRL104 secret-in-image.

How it is checked: every `ENV` and `ARG` pair of every stage (and the `ARG`s before the first
`FROM`) that gives a non-empty value, when the name says it holds a secret by the contract's one
rule (`trainer_contract.env.is_secret_name`, env.json `x-secret-names`): one of the `x-secret`
variables, or whole words such as `SECRET`, `TOKEN`, `PASSWORD*`, `API_KEY`, unless it ends in a
reference word (`PASSWORD_FILE` names a file). A value that
copies a build argument (`ENV HF_TOKEN=$HF_TOKEN`) is reported too: it stores the argument in the
image. The finding points at the name and never repeats the value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from trainer_contract.env import is_secret_name
from trainer_tools.trainer_lint.dockerfile.analysis import DockerfileAnalysis
from trainer_tools.trainer_lint.dockerfile.words import key_values
from trainer_tools.trainer_lint.finding import Finding

CODE = "TRL104"


def check(analysis: DockerfileAnalysis) -> Iterator[Finding]:
    """Report secrets given a value in ENV or ARG."""
    facts = analysis.facts
    for instruction in analysis.dockerfile.instructions:
        if instruction.keyword not in ("ENV", "ARG"):
            continue
        for name, value in key_values(instruction.arguments):
            if value is None or not value.strip() or not is_secret_name(name):
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
