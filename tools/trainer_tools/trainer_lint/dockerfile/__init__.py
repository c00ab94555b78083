"""Dockerfiles for trainer-lint: a parser, the stages it builds, and what the final image holds.

Standard library only, like the Python side: the linter runs where Docker is not installed and
never builds anything. The parser follows BuildKit's Dockerfile frontend (parser directives,
escape character, line continuations with comment lines inside them, heredocs, JSON exec form,
multi-stage builds); the image model answers what the container will run, as whom, and with
which files and packages.
"""

from trainer_tools.trainer_lint.dockerfile.parser import (
    Dockerfile,
    DockerfileSyntaxError,
    Instruction,
    Stage,
    parse_dockerfile,
)

__all__ = ["Dockerfile", "DockerfileSyntaxError", "Instruction", "Stage", "parse_dockerfile"]
