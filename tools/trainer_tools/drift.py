"""One drift check for every derived file: generated code, reference docs, rule page, bundle.

Each generator renders what the files should be and hands it here with what is on disk; the
report names every missing, stale and differing file, shows the start of each diff, and ends with
the command that fixes it.
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Mapping

__all__ = ["report_drift"]

_DIFF_LINES = 40
_LINE_WIDTH = 200


def report_drift(
    want: Mapping[str, str],
    have: Mapping[str, str],
    *,
    fix: str,
    source: str,
    what: str = "file(s)",
    committed: bool = True,
) -> int:
    """Print how `have` (on disk) differs from `want` (rendered from `source`); 0 when equal."""
    problems = 0
    for name in sorted(set(want) | set(have)):
        wanted, current = want.get(name), have.get(name)
        if wanted == current:
            continue
        problems += 1
        if current is None:
            print(f"missing: {name}")
        elif wanted is None:
            print(f"stale (nothing produces it now): {name}")
        else:
            diff = difflib.unified_diff(
                current.splitlines(keepends=True),
                wanted.splitlines(keepends=True),
                f"{name} (on disk)",
                f"{name} (from {source})",
                n=1,
            )
            for line in list(diff)[:_DIFF_LINES]:
                cut = line[:_LINE_WIDTH]
                sys.stdout.write(cut if cut.endswith("\n") else cut + "\n")
    if problems:
        then = " and commit" if committed else ""
        print(f"\n{problems} {what} differ from {source}: run `{fix}`{then}.")
        return 1
    print(f"up to date: {what}, {len(want)} in all, as {source} gives them.")
    return 0
