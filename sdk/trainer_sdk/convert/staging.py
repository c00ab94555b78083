"""Safe output: everything is written into a fresh hidden folder, then moved into place.

An interrupted run leaves at most a hidden `.trainer-sdk-convert-*` folder, never half a dataset
that looks whole: the entries are renamed into place only after every file was written, the old
ones first moved aside, and the entry that says "complete" (`data.yaml` for YOLO) goes last. The
old entries are deleted only after the new ones are in place: deleting tens of thousands of files
and then creating new ones right away is slow on ext4 (see DEPENDENCY_NOTES), so the new files are
never written after a mass delete of the old. Every published folder holds an empty
`.trainer-sdk-convert` marker, and a folder without it (the user's own `train/`, say) is never
replaced: the conversion stops with a DatasetError instead.

A run holds an exclusive `flock` on a `.lock` file in its staging folder for as long as it lives
(the kernel drops it when the process dies, even by SIGKILL). Each new run removes the staging
folders in its output folder whose lock it can take: those of killed runs, never one of a run
still going. A staging folder without a lock file (from an older version) counts as left over
once it is an hour old.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
import time
from pathlib import Path
from types import TracebackType

from trainer_sdk.errors import DatasetError

__all__ = ["MARKER", "PREFIX", "Staging", "remove_stale_staging"]

PREFIX = ".trainer-sdk-convert-"
LOCK = ".lock"
_UNLOCKED_STALE_SECONDS = 3600
MARKER = ".trainer-sdk-convert"
"""An empty file in every folder this module publishes: only such folders are ever replaced."""


class Staging:
    """A temporary folder inside `output_dir`; `publish(names)` moves its entries into place.

    Use as a context manager: leaving it removes whatever was not published.
    """

    def __init__(self, output_dir: Path) -> None:
        output_dir.mkdir(parents=True, exist_ok=True)
        remove_stale_staging(output_dir)
        self.output_dir = output_dir
        self.root = Path(tempfile.mkdtemp(prefix=PREFIX, dir=output_dir))
        self._lock = os.open(self.root / LOCK, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
        fcntl.flock(self._lock, fcntl.LOCK_EX)

    def __enter__(self) -> Staging:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        os.close(self._lock)

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
        # Inside the staging folder: a run killed here leaves it to the next run's clean-up.
        trash = self.root / ".replaced"
        trash.mkdir()
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


def remove_stale_staging(output_dir: Path) -> list[str]:
    """Delete the staging folders of killed runs in `output_dir`; returns their names."""
    removed: list[str] = []
    try:
        entries = list(os.scandir(output_dir))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(PREFIX) or not entry.is_dir(follow_symlinks=False):
            continue
        if _left_over(Path(entry.path)):
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(entry.name)
    return removed


def _left_over(folder: Path) -> bool:
    try:
        fd = os.open(folder / LOCK, os.O_WRONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        try:
            return time.time() - folder.stat().st_mtime > _UNLOCKED_STALE_SECONDS
        except OSError:
            return False
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False  # a live run holds it
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)
    return True
