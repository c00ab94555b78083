"""The `trainer-sdk` command: one subcommand per module of `trainer_tools.commands`.

A subcommand module defines `NAME`, `HELP`, `configure(parser)` and `run(args) -> int`; adding
one never edits this file.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from typing import Protocol, cast

from trainer_tools import commands


class Command(Protocol):
    """What a subcommand module provides."""

    NAME: str
    HELP: str

    def configure(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


def discover() -> list[Command]:
    """Every subcommand module, sorted by command name."""
    found = []
    for info in pkgutil.iter_modules(commands.__path__):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        found.append(cast(Command, module))
    return sorted(found, key=lambda c: c.NAME)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every discovered subcommand."""
    from importlib.metadata import version

    parser = argparse.ArgumentParser(
        prog="trainer-sdk",
        description="Contract toolkit for custom training containers: convert datasets, run the "
        "reference backend, dry-run a trainer end to end, verify a backend, replay an outbox.",
    )
    parser.add_argument(
        "--version", action="version", version=f"trainer-sdk {version('trainer-sdk')}"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in discover():
        child = sub.add_parser(command.NAME, help=command.HELP, description=command.HELP)
        command.configure(child)
        child.set_defaults(_run=command.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `trainer-sdk` console script (quiet when its reader closes the pipe)."""
    from trainer_tools.terminal import quiet_pipe

    return quiet_pipe(lambda: _main(argv))


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    run = getattr(args, "_run", None)
    if run is None:
        parser.print_help()
        return 2
    try:
        return int(run(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
