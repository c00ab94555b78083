"""Which images an annotation file lists, and where they are in the bucket.

Selective download needs only this much of a DICE file: the top-level `images` list with each
image's `file_name` (the same in the nested and the flat COCO layout), and
`storage_info.image_root` / `storage_info.bucket` when the images live elsewhere than the dataset's
own `images/` prefix. Everything else about the format belongs to the converters.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from trainer_sdk.errors import DatasetError
from trainer_sdk.storage.layout import default_image_root, local_image_folder
from trainer_sdk.storage.safety import safe_relative_path

__all__ = ["ImageRef", "listed_images", "load_annotation_file"]


@dataclass(frozen=True)
class ImageRef:
    """One listed image: its bucket (None: the dataset bucket), key, and local relative path."""

    bucket: str | None
    key: str
    local: PurePosixPath
    source: str


def load_annotation_file(path: Path) -> Any:
    """Parse an annotation file, with a DatasetError naming the file and line when it is not JSON."""
    try:
        with open(path, "rb") as handle:
            return json.load(handle)
    except json.JSONDecodeError as error:
        raise DatasetError(
            f"{path.name} is not valid JSON (line {error.lineno}, column {error.colno}: "
            f"{error.msg}); re-export the dataset"
        ) from None
    except UnicodeDecodeError as error:
        raise DatasetError(
            f"{path.name} is not UTF-8 text ({error}); re-export the dataset"
        ) from None


def _image_root(
    document: dict[str, Any], dataset_id: str, file_label: str
) -> tuple[str | None, str]:
    info = document.get("storage_info")
    if info is None:
        return None, default_image_root(dataset_id)
    if not isinstance(info, dict):
        raise DatasetError(f"storage_info in {file_label} is {type(info).__name__}, not an object")
    bucket = info.get("bucket")
    root = info.get("image_root")
    if bucket is not None and (not isinstance(bucket, str) or not bucket):
        raise DatasetError(f"storage_info.bucket in {file_label} is {bucket!r}, not a bucket name")
    if root is None:
        return bucket, default_image_root(dataset_id)
    if not isinstance(root, str):
        raise DatasetError(f"storage_info.image_root in {file_label} is {root!r}, not a key prefix")
    root = root.lstrip("/")
    if root and not root.endswith("/"):
        root += "/"
    return bucket, root


def listed_images(document: Any, *, file_label: str, dataset_id: str) -> list[ImageRef]:
    """The images `document` (a parsed annotation file called `file_label`) lists, in order.

    Raises DatasetError when `images` is missing or malformed, or a `file_name` would escape the
    destination (absolute, `..`, backslashes).
    """
    if not isinstance(document, dict):
        raise DatasetError(f"{file_label} holds a JSON {type(document).__name__}, not an object")
    images = document.get("images")
    if not isinstance(images, list):
        raise DatasetError(
            f"{file_label} has no `images` list (found {type(images).__name__}); "
            "a DICE annotation file lists its images at the top level"
        )
    bucket, root = _image_root(document, dataset_id, file_label)
    folder = local_image_folder()
    refs: list[ImageRef] = []
    for index, image in enumerate(images):
        where = f"images[{index}] in {file_label}"
        if not isinstance(image, dict):
            raise DatasetError(f"{where} is {type(image).__name__}, not an object")
        relative = safe_relative_path(image.get("file_name"), what=f"file_name of {where}")
        refs.append(
            ImageRef(
                bucket=bucket,
                key=f"{root}{relative.as_posix()}",
                local=folder / relative,
                source=where,
            )
        )
    return refs
