"""Collecting every problem of an input file, then raising one DatasetError that lists them."""

from __future__ import annotations

import heapq
import re
from dataclasses import dataclass

from trainer_sdk.errors import DatasetError

__all__ = ["MAX_LISTED_PROBLEMS", "InvalidDatasetError", "Problem", "Problems"]

MAX_LISTED_PROBLEMS = 50
"""A broken export can have a million problems; the message lists this many and counts the rest."""
MAX_PATH = 200
MAX_MESSAGE = 300
"""A path or message longer than this is cut: a problem never quotes pages of the input (a
schema message can hold the whole offending value, a path a megabyte-long key)."""
_SEPARATORS = re.compile(r"[.\[\]]")


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the input: where (JSON path) and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class InvalidDatasetError(DatasetError):
    """The annotation file is not valid DICE; `.problems` holds the listed problems, `.total`
    how many there are in all."""

    def __init__(self, source: str, problems: list[Problem], total: int, fix: str) -> None:
        self.source = source
        self.problems = problems
        self.total = total
        lines = "\n".join(f"  {p}" for p in problems)
        more = f"\n  ... and {total - len(problems)} more" if total > len(problems) else ""
        super().__init__(
            f"{source} is not valid DICE: {total} problem(s)"
            + (f", the first {len(problems)} listed" if total > len(problems) else "")
            + f":\n{lines}{more}\n{fix}"
        )


class Problems:
    """An append-only list of problems that knows how to fail."""

    def __init__(self) -> None:
        self._items: list[Problem] = []

    def add(self, path: str, message: str) -> None:
        """Record that the value at `path` is wrong, and why (both cut to a readable length)."""
        self._items.append(Problem(_cut(path, MAX_PATH), _cut(message, MAX_MESSAGE)))

    def items(self) -> list[Problem]:
        """The problems recorded so far, in the order they came."""
        return list(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return bool(self._items)

    def raise_if_any(self, source: str, fix: str) -> None:
        """Raise `InvalidDatasetError` listing the problems (sorted by path) when there are any."""
        if not self._items:
            return
        unique = set(self._items)
        # A broken export can have a million problems: only the listed ones are sorted.
        listed = heapq.nsmallest(MAX_LISTED_PROBLEMS, unique, key=_path_order)
        raise InvalidDatasetError(source, listed, len(unique), fix)


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    keep = limit - 30
    return f"{text[: keep // 2]}...({len(text) - keep:,} characters)...{text[-keep // 2 :]}"


def _path_order(problem: Problem) -> tuple[list[tuple[int, int | str]], str]:
    # Sort `$.images[10]` after `$.images[9]`: numbers inside brackets compare as numbers.
    parts = [
        (0, int(token)) if token.isdigit() else (1, token)
        for token in _SEPARATORS.split(problem.path)
        if token
    ]
    return parts, problem.message
