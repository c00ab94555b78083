"""`trainer-sdk bundle [--out PATH]`: write the single-file SDK (trainer_sdk.py) for an image.

Built from the installed `trainer_sdk` and `trainer_contract` packages, so it works from a wheel
install as well as in the project (where `make bundle` does the same from the source tree).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

NAME = "bundle"
HELP = (
    "Write trainer_sdk.py, the whole SDK in one file for `COPY trainer_sdk.py ./` "
    "(default: ./trainer_sdk.py; --out DIR writes DIR/trainer_sdk.py)."
)


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the bundle arguments."""
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("trainer_sdk.py"),
        metavar="PATH",
        help="file to write, or a folder to write trainer_sdk.py into (default: ./trainer_sdk.py)",
    )


def run(args: argparse.Namespace) -> int:
    """Build and write the bundle."""
    from trainer_tools.bundle.__main__ import build_installed, write_atomically

    out: Path = args.out / "trainer_sdk.py" if args.out.is_dir() else args.out
    try:
        text = build_installed()
    except (FileNotFoundError, ValueError) as exc:
        print(f"trainer-sdk bundle: {exc}", file=sys.stderr)
        return 1
    write_atomically(out, text)
    print(f"wrote {out} ({len(text.encode('utf-8')) // 1024} KiB)")
    return 0
