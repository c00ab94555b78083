"""Seeded mistakes for the lint corpus tests: edit a clean fixture, expect one code at one line.

A mutation names the line its finding must point at by a piece of text of the mutated file, so
the expectation is computed from the file, never typed in as a number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


def line_of(text: str, needle: str, occurrence: int = 0) -> int:
    """1-based line of the n-th occurrence of `needle`."""
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(needle, start + 1)
    return text.count("\n", 0, start) + 1


@dataclass(frozen=True)
class Mutation:
    """One edit of a clean fixture and the finding it must give."""

    folder: Path
    fixture: str
    name: str
    edits: tuple[tuple[str, str], ...]
    code: str
    anchor: str
    occurrence: int = 0

    def apply(self) -> str:
        """The fixture's text with every edit made (each old text must occur exactly once)."""
        text = (self.folder / self.fixture).read_text(encoding="utf-8")
        for old, new in self.edits:
            assert text.count(old) == 1, f"{self.fixture}: {old!r} must occur exactly once"
            text = text.replace(old, new)
        return text


def mutation_maker(folder: Path) -> Callable[..., Mutation]:
    """`m(fixture, name, edits, code, anchor, occurrence=0)` for the fixtures of `folder`."""

    def m(
        fixture: str,
        name: str,
        edits: list[tuple[str, str]],
        code: str,
        anchor: str,
        occurrence: int = 0,
    ) -> Mutation:
        return Mutation(folder, fixture, name, tuple(edits), code, anchor, occurrence)

    return m
