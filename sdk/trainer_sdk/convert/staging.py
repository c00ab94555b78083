"""Safe output: everything is written into a fresh hidden folder, then moved into place.

An interrupted run leaves at most a hidden `.trainer-sdk-convert-*` folder, never half a dataset
that looks whole: the entries are renamed into place only after every file was written, the old
ones first moved aside, and the entry that says "complete" (`data.yaml` for YOLO) goes last. The
old entries are deleted only after the new ones are in place: deleting tens of thousands of files
and then creating new ones right away is slow on ext4 (see DEPENDENCY_NOTES), so the new files are
never written after a mass delete of the old. Every published folder holds an empty
`.trainer-sdk-convert` marker, and a folder without it (the user's own `train/`, say) is never
replaced: the conversion stops with a DatasetError instead.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from types import TracebackType

from trainer_sdk.errors import DatasetError

__all__ = ["MARKER", "Staging"]

PREFIX = ".trainer-sdk-convert-"
MARKER = ".trainer-sdk-convert"
"""An empty file in every folder this module publishes: only such folders are ever replaced."""


class Staging:
    """A temporary folder inside `output_dir`; `publish(names)` moves its entries into place.

    Use as a context manager: leaving it removes whatever was not published.
    """

    def __init__(self, output_dir: Path) -> None:
        output_dir.mkdir(parents=True, exist_ok=True)
        self.output_dir = output_dir
        self.root = Path(tempfile.mkdtemp(prefix=PREFIX, dir=output_dir))

    def __enter__(self) -> Staging:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def publish(self, names: list[str], remove: tuple[str, ...] = ()) -> None:
        """Move the staged entries `names` (last one last) to `output_dir`, replacing what is
        there; also take away stale entries `remove` of an earlier run that this run does not
        produce (e.g. a `test.txt` when there is no test split any more)."""
        for name in names:
            staged = self.root / name
            if staged.is_dir() and not staged.is_symlink():
                (staged / MARKER).touch()
            target = self.output_dir / name
            if target.is_dir() and not target.is_symlink() and not (target / MARKER).exists():
                raise DatasetError(
                    f"{self.output_dir.name}/{name}/ exists and was not written by this "
                    "converter; it is left alone. Move it away, or pass another output_dir."
                )
        trash = Path(tempfile.mkdtemp(prefix=PREFIX + "old-", dir=self.output_dir))
        try:
            # The completion marker leaves first and comes back last.
            for name in [names[-1], *names[:-1], *remove]:
                target = self.output_dir / name
                foreign = target.is_dir() and not target.is_symlink()
                if foreign and not (target / MARKER).exists():
                    continue  # a stale entry that is not ours: left alone
                if os.path.lexists(target):
                    os.rename(target, trash / name)
            for name in names:
                os.rename(self.root / name, self.output_dir / name)
        finally:
            shutil.rmtree(trash, ignore_errors=True)
