"""`trainer-sdk completion bash|zsh|fish`: print the shell completion script of `trainer-sdk`
and `trainer-lint`, generated from their argument parsers."""

from __future__ import annotations

import argparse
import sys

NAME = "completion"
HELP = (
    "Print the shell completion script of trainer-sdk and trainer-lint "
    "(bash: `source <(trainer-sdk completion bash)` in ~/.bashrc)."
)


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the shell argument."""
    from trainer_tools.completion import SHELLS

    parser.add_argument("shell", choices=SHELLS, help="the shell to complete in")


def run(args: argparse.Namespace) -> int:
    """Print the script."""
    from trainer_tools.cli import build_parser
    from trainer_tools.completion import render, tree_of
    from trainer_tools.trainer_lint.cli import parser as lint_parser

    trees = [tree_of(build_parser(), "trainer-sdk"), tree_of(lint_parser(), "trainer-lint")]
    sys.stdout.write(render(args.shell, trees))
    return 0
