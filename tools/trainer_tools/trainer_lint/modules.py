"""The trainer's own modules next to it, which the lifecycle walk may step into.

`train.py` often keeps its loop in a helper module (`from engine import train_one_epoch`, the
guide's Dockerfile copies a `utils.py`). Modules imported by plain name (or `from . import x`) that
exist as `<name>.py` in the entry's folder are parsed and their functions and classes joined to the
entry's tables, transitively, up to a bound. The SDK module itself (a copied `trainer_sdk.py`) is
never followed: its internals are the SDK's business, not the trainer's.
"""

from __future__ import annotations

import ast
import errno
import os
import stat
from pathlib import Path, PurePosixPath

from trainer_tools.trainer_lint.node_index import NodeIndex
from trainer_tools.trainer_lint.reading import SourceReadError, decode_python, read_bytes
from trainer_tools.trainer_lint.source import SourceFile, TrainerSyntaxError

__all__ = ["MAX_MODULES", "sibling_modules"]

# Enough for any trainer's own helpers; a folder of hundreds of modules is not a trainer.
MAX_MODULES = 20
# The errors `Path.is_file` reads as "not a file" (pathlib's `_IGNORED_ERRNOS`).
_IGNORED_ERRNOS = frozenset({errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP})
_IGNORED_WINERRORS = frozenset({21, 123, 1921})  # not ready, invalid name, link loop


def _is_file(path: str) -> bool:
    """`Path(path).is_file()` (a regular file, following links; a missing or looping path is
    not one, and other errors propagate), without building a Path."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError as exc:
        if exc.errno in _IGNORED_ERRNOS or getattr(exc, "winerror", None) in _IGNORED_WINERRORS:
            return False
        raise
    except ValueError:
        return False


def _imported_names(index: NodeIndex) -> list[str]:
    names: list[str] = []
    # The import statements in breadth-first order (as ast.walk gives them), from the index the
    # analysis walks anyway: walking the tree again here cost as much as parsing it.
    for node in index.imports:
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names if "." not in alias.name]
        elif isinstance(node, ast.ImportFrom) and node.level in (0, 1):
            if node.module and "." not in node.module:
                names.append(node.module)
            elif node.module is None and node.level == 1:
                names += [alias.name for alias in node.names]
    return names


def sibling_modules(
    entry: Path,
    tree: ast.Module,
    display: str,
    skip: frozenset[str],
    index: NodeIndex | None = None,
) -> list[tuple[str, SourceFile]]:
    """(module name, parsed file) of the entry's own modules, breadth-first from its imports.

    `display` is the entry's path as reported; a sibling is reported next to it. Modules named
    in `skip`, and files that do not parse, are left out.
    """
    folder = entry.parent
    folder_name = os.fspath(folder)
    found: list[tuple[str, SourceFile]] = []
    seen = {entry.stem, *skip}
    queue = _imported_names(index if index is not None else NodeIndex(tree))
    while queue and len(found) < MAX_MODULES:
        name = queue.pop(0)
        if name in seen:
            continue
        seen.add(name)
        if not _is_file(os.path.join(folder_name, f"{name}.py")):
            continue  # most imports are installed packages: no Path made for them
        candidate = folder / f"{name}.py"
        shown = PurePosixPath(display).parent / candidate.name
        try:
            text = decode_python(read_bytes(candidate))
            source = SourceFile.parse(text, shown.as_posix())
        except (SourceReadError, TrainerSyntaxError):
            continue  # linted (and reported) on its own when it is named or in a linted folder
        found.append((name, source))
        queue += _imported_names(source.index)
    return found
