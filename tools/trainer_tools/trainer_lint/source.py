"""A parsed trainer file, and positions of its nodes as users count them."""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass

from trainer_tools.trainer_lint.node_index import NodeIndex

__all__ = ["SourceFile", "TrainerSyntaxError"]


class TrainerSyntaxError(Exception):
    """The file could not be linted (it is not valid Python, or not UTF-8); carries the location
    so the CLI can point at it. `kind` says which ("syntax error", "internal error")."""

    def __init__(
        self, path: str, line: int, column: int, message: str, kind: str = "syntax error"
    ) -> None:
        self.path = path
        self.line = line
        self.column = column
        self.message = message
        self.kind = kind
        super().__init__(f"{path}:{line}:{column}: {kind}: {message}")


@dataclass
class SourceFile:
    """The text and syntax tree of one file."""

    path: str
    text: str
    tree: ast.Module

    @classmethod
    def parse(cls, text: str, path: str) -> SourceFile:
        """Parse `text`; a syntax error becomes `TrainerSyntaxError` with its line and column."""
        try:
            tree = ast.parse(text, filename=path, type_comments=False)
        except SyntaxError as exc:
            line = exc.lineno or 1
            column = exc.offset or 1
            raise TrainerSyntaxError(path, line, column, exc.msg) from None
        except ValueError as exc:  # NUL bytes in the source
            raise TrainerSyntaxError(path, 1, 1, str(exc)) from None
        return cls(path=path, text=text, tree=tree)

    @functools.cached_property
    def lines(self) -> list[str]:
        """The text's lines, split only when asked (splitting every file cost a sixtieth of
        parsing it, and only a finding's column on a non-ASCII line needs them)."""
        return self.text.splitlines()

    @functools.cached_property
    def _ascii(self) -> bool:
        return self.text.isascii()

    @functools.cached_property
    def index(self) -> NodeIndex:
        """Every node of the tree by type (walked once, shared by the module search and the
        analysis)."""
        return NodeIndex(self.tree)

    def column(self, line: int, byte_offset: int) -> int:
        """1-based character column of a UTF-8 byte offset (ast counts bytes, editors characters)."""
        if not self._ascii and 1 <= line <= len(self.lines):
            text = self.lines[line - 1]
            if not text.isascii():
                return len(text.encode("utf-8")[:byte_offset].decode("utf-8", "replace")) + 1
        return byte_offset + 1

    def span(self, node: ast.AST) -> tuple[int, int, int, int]:
        """(line, column, end line, end column) of a node, 1-based."""
        line = getattr(node, "lineno", 1)
        col = getattr(node, "col_offset", 0)
        end_line = getattr(node, "end_lineno", None) or line
        end_col = getattr(node, "end_col_offset", None)
        end_col = col if end_col is None else end_col
        return line, self.column(line, col), end_line, self.column(end_line, end_col)
