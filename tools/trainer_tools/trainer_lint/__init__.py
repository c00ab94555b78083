"""trainer-lint: a static check that a `train.py` keeps the platform's lifecycle contract, and
that the Dockerfile of its image runs it as the platform expects.

Pure standard library (`ast`, and a Dockerfile parser of its own); it reads the contract (rules,
SDK signatures, ErrorType, exit codes, environment defaults, secret variables) from the generated
`trainer_contract` package and never imports the SDK runtime, so it runs where the SDK is not
installed. Command line: `trainer-lint` (see `cli`).
"""

from trainer_tools.trainer_lint.dockerfile import DockerfileSyntaxError
from trainer_tools.trainer_lint.engine import (
    FileResult,
    lint_dockerfile_source,
    lint_file,
    lint_source,
)
from trainer_tools.trainer_lint.finding import Finding
from trainer_tools.trainer_lint.source import TrainerSyntaxError

__all__ = [
    "DockerfileSyntaxError",
    "FileResult",
    "Finding",
    "TrainerSyntaxError",
    "lint_dockerfile_source",
    "lint_file",
    "lint_source",
]
