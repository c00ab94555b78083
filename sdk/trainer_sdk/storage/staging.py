"""Build a download in a hidden folder beside its destination; put it in place only when complete.

A download that fails or is interrupted leaves the destination as it was (plus, after a hard
kill, a hidden `.NAME.partial-*` folder beside it), so a half-downloaded dataset never looks
complete. A fresh destination is one `rename`; an existing folder receives the new files one
`os.replace` at a time, never through a link.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from pathlib import Path
from types import TracebackType

from trainer_sdk.errors import DatasetError

__all__ = ["StagedFolder", "merge_into"]


def merge_into(source: Path, dest: Path) -> None:
    """Move the tree `source` into the existing folder `dest`, replacing files of the same name."""
    with os.scandir(source) as entries:
        for entry in entries:
            target = dest / entry.name
            if os.path.islink(target):
                raise DatasetError(
                    f"the destination already holds a link at {target}; downloads never write "
                    "through links: remove it or choose an empty destination folder"
                )
            if entry.is_dir(follow_symlinks=False):
                if target.is_dir():
                    merge_into(Path(entry.path), target)
                    continue
                if target.exists():
                    target.unlink()
                os.rename(entry.path, target)
            else:
                if target.is_dir():
                    raise DatasetError(
                        f"the destination has a folder at {target} where the dataset has a file; "
                        "remove it or choose an empty destination folder"
                    )
                os.replace(entry.path, target)


class StagedFolder:
    """Context manager yielding a hidden folder beside `dest`, moved into `dest` on success."""

    def __init__(self, dest: str | os.PathLike[str]) -> None:
        self.dest = Path(dest)
        self.path: Path | None = None

    def __enter__(self) -> Path:
        if self.dest.exists() and not self.dest.is_dir():
            raise DatasetError(
                f"the destination {self.dest} exists and is not a folder; choose a folder path"
            )
        self.dest.parent.mkdir(parents=True, exist_ok=True)
        # Same parent, so the final move is a rename on one filesystem.
        self.path = Path(
            tempfile.mkdtemp(prefix=f".{self.dest.name}.partial-", dir=self.dest.parent)
        )
        return self.path

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self.path is not None
        try:
            if exc_type is None:
                try:
                    # Fails if the destination exists and is not empty, which another rank or
                    # job downloading to the same folder may have made it a moment ago.
                    os.rename(self.path, self.dest)
                except OSError as error:
                    if error.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR):
                        raise
                    merge_into(self.path, self.dest)
        finally:
            shutil.rmtree(self.path, ignore_errors=True)
