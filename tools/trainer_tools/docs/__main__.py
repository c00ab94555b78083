"""Command line of the docs generator: `python -m trainer_tools.docs [--out DIR] [--check]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from trainer_tools.docs.render import render_pages
from trainer_tools.drift import report_drift

ROOT = Path(__file__).resolve().parents[3]
DEFAULT_OUT = ROOT / "docs" / "reference"


def write(pages: dict[str, str], out: Path) -> None:
    """Write every page; Markdown files of `out` that no page produces any more are removed."""
    out.mkdir(parents=True, exist_ok=True)
    for stale in sorted(out.glob("*.md")):
        if stale.name not in pages:
            stale.unlink()
    for name, text in pages.items():
        target = out / name
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8", newline="\n")


def check(pages: dict[str, str], out: Path) -> int:
    """0 when `out` holds exactly `pages`; otherwise print the differences and the fix."""
    have = {f"{out.name}/{p.name}": p.read_text(encoding="utf-8") for p in sorted(out.glob("*.md"))}
    want = {f"{out.name}/{name}": text for name, text in pages.items()}
    return report_drift(want, have, fix="make docs", source="schemas/", what="reference page(s)")


def main(argv: list[str] | None = None) -> int:
    """Write docs/reference/ (default) or check it against the schemas."""
    parser = argparse.ArgumentParser(
        prog="python -m trainer_tools.docs",
        description="Write the reference pages (env vars, CONFIG, callbacks, SDK methods, "
        "ErrorType) from the contract.",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument("--check", action="store_true", help="fail if --out differs; write nothing")
    args = parser.parse_args(argv)
    pages = render_pages()
    if args.check:
        return check(pages, args.out)
    write(pages, args.out)
    print(f"wrote {len(pages)} pages to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
