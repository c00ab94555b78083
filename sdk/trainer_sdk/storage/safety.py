"""Keep every downloaded file inside its destination folder.

Object keys and annotation `file_name`s come from outside the job. One that is absolute or climbs
with `..` would write anywhere the job can; each is refused with a `DatasetError` naming the
offending value and where it came from. (Links are the other way out: downloads are built in a
fresh staged folder, and `staging.merge_into` refuses to move anything through a link.)
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from trainer_sdk.errors import DatasetError

__all__ = ["safe_relative_path", "safe_relative_str"]

_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")


def safe_relative_path(name: object, *, what: str) -> PurePosixPath:
    """Validate `name` as a relative POSIX path that stays inside its folder.

    `what` says where the name came from (e.g. `file_name of images[3] in annotations.json`) and
    is part of the error message.
    """
    if not isinstance(name, str) or name == "":
        raise DatasetError(f"{what} is {name!r}; it must be a non-empty relative path")
    problem = None
    if "\x00" in name:
        problem = "contains a NUL character"
    elif "\\" in name:
        problem = "contains a backslash; use '/' between folders"
    elif name.startswith("/") or _WINDOWS_DRIVE.match(name):
        problem = "is absolute; it must be relative to the dataset folder"
    elif ".." in PurePosixPath(name).parts:
        problem = "climbs out of the dataset folder with '..'"
    if problem is not None:
        raise DatasetError(f"{what} {name!r} {problem}; the dataset was refused")
    path = PurePosixPath(*(part for part in PurePosixPath(name).parts if part != "."))
    if not path.parts:
        raise DatasetError(f"{what} {name!r} names no file; it must be a relative file path")
    return path


def safe_relative_str(name: str, *, what: str) -> str:
    """`safe_relative_path` for hot loops: plain names pass on string checks alone.

    Anything unusual (empty parts, `.`, `..`, backslashes, absolute) takes the full check, which
    normalises it or raises the same DatasetError.
    """
    if (
        name
        and name[0] != "/"
        and "\\" not in name
        and "\x00" not in name
        and not _WINDOWS_DRIVE.match(name)
    ):
        parts = name.split("/")
        if "" not in parts and "." not in parts and ".." not in parts:
            return name
    return safe_relative_path(name, what=what).as_posix()
