"""`trainer-sdk init [DIR]`: write a starter train.py, Dockerfile and pyproject.toml."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

NAME = "init"
HELP = (
    "Write a starter train.py (run(main)), Dockerfile (the guide's template) and pyproject.toml "
    "into DIR; they pass trainer-lint and trainer-sdk dry-run as written."
)


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the init arguments."""
    parser.add_argument(
        "folder", nargs="?", type=Path, default=Path("."), metavar="DIR", help="default: here"
    )
    parser.add_argument("--force", action="store_true", help="overwrite existing files")


def run(args: argparse.Namespace) -> int:
    """Write the files; 1 when one exists already (without --force)."""
    from trainer_tools.starter import InitError, write_starter

    try:
        written = write_starter(args.folder, force=args.force)
    except (InitError, OSError) as exc:
        print(f"trainer-sdk init: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path}")
    print("next: trainer-lint train.py && trainer-sdk dry-run train.py")
    return 0
