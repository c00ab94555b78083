"""A finding: one rule broken at one place of one file."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Finding"]


@dataclass(frozen=True, order=True)
class Finding:
    """A rule code at a position; lines and columns are 1-based, columns count characters."""

    path: str
    line: int
    column: int
    code: str
    message: str
    end_line: int
    end_column: int
