"""Dataset downloads: the whole `datasets/{id}/` prefix, or the annotations and the images they list.

Both build the dataset in a hidden folder beside the destination and move it into place only when
every file arrived (`staging.StagedFolder`), so a failed or interrupted download never looks like
a dataset. `fill_*` write into a given folder and return the manifest of what they wrote; the
cache uses them to fill its entries.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from trainer_sdk.errors import DatasetError, ResourceError
from trainer_sdk.storage.annotations import ImageRef, listed_images, load_annotation_file
from trainer_sdk.storage.fetch import FetchedFile, FetchItem, ObjectFetcher
from trainer_sdk.storage.layout import ANNOTATION_FILE_PATTERN, dataset_prefix, is_dataset_side_file
from trainer_sdk.storage.progress import TransferProgress, format_bytes
from trainer_sdk.storage.s3 import ObjectInfo, S3Storage
from trainer_sdk.storage.safety import safe_relative_path
from trainer_sdk.storage.staging import StagedFolder

__all__ = ["MISSING_LISTED_LIMIT", "DatasetDownloader", "ManifestEntry", "check_dataset_id"]

logger = logging.getLogger("trainer_sdk.storage")

# How many missing images one error message names before it only gives the count.
MISSING_LISTED_LIMIT = 20
_DATASET_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class ManifestEntry:
    """One file of a downloaded dataset: path relative to the dataset folder, size, ETag."""

    path: str
    size: int
    etag: str


def check_dataset_id(dataset_id: object) -> str:
    """Return `dataset_id` as a string if it can name a `datasets/{id}/` prefix, else raise."""
    text = str(dataset_id) if isinstance(dataset_id, int) else dataset_id
    if not isinstance(text, str) or not _DATASET_ID.match(text):
        raise DatasetError(
            f"dataset id {dataset_id!r} is not a dataset id (letters, digits, '.', '_', '-'; "
            "no '/'); pass the DATASET_ID of the job, e.g. ds_abc123"
        )
    return text


def _entries(fetched: Iterable[FetchedFile], root: Path) -> list[ManifestEntry]:
    return sorted(
        (ManifestEntry(f.item.path.relative_to(root).as_posix(), f.size, f.etag) for f in fetched),
        key=lambda entry: entry.path,
    )


def _check_tree_shape(paths: Iterable[tuple[PurePosixPath, str]]) -> None:
    """Refuse two keys landing on one file, or a file where another key needs a folder."""
    seen: dict[PurePosixPath, str] = {}
    for path, key in paths:
        other = seen.setdefault(path, key)
        if other != key:
            raise DatasetError(
                f"{other!r} and {key!r} would both be written to {path.as_posix()}; "
                "rename one of them in the bucket or annotation file"
            )
    folders = {parent for path in seen for parent in path.parents}
    for path, key in seen.items():
        if path in folders:
            raise DatasetError(
                f"{key!r} is a file but other keys use {path.as_posix()!r} as a folder; "
                "rename it in the bucket"
            )


class DatasetDownloader:
    """Downloads datasets of the external storage with the fast fetcher."""

    def __init__(self, storage: S3Storage, fetcher: ObjectFetcher | None = None) -> None:
        self.storage = storage
        self.fetcher = fetcher or ObjectFetcher(storage, in_staged_folder=True)

    # -- public entry points --------------------------------------------------------------------

    def download(self, dataset_id: str, dest_dir: str | os.PathLike[str]) -> str:
        """Download every object under `datasets/{dataset_id}/` into `dest_dir`; returns it."""
        dataset_id = check_dataset_id(dataset_id)
        with StagedFolder(dest_dir) as stage:
            self.fill_all(dataset_id, stage)
        return str(Path(dest_dir))

    def download_selective(self, dataset_id: str, dest_dir: str | os.PathLike[str]) -> str:
        """Download the annotation files (and metadata) and only the images they list."""
        dataset_id = check_dataset_id(dataset_id)
        with StagedFolder(dest_dir) as stage:
            self.fill_selective(dataset_id, stage)
        return str(Path(dest_dir))

    # -- fills ----------------------------------------------------------------------------------

    def fill_all(self, dataset_id: str, folder: Path) -> list[ManifestEntry]:
        """Fetch the whole prefix into `folder`; returns the manifest."""
        prefix = dataset_prefix(dataset_id)
        objects = list(self.storage.list_objects(prefix))
        items: list[FetchItem] = []
        shape: list[tuple[PurePosixPath, str]] = []
        for obj in objects:
            rest = obj.key[len(prefix) :]
            if rest == "" or rest.endswith("/"):
                continue  # folder markers some tools create
            relative = safe_relative_path(rest, what=f"the object key {obj.key!r} (as path)")
            shape.append((relative, obj.key))
            items.append(FetchItem(self.storage.bucket, obj.key, folder.joinpath(*relative.parts)))
        if not items:
            raise self._not_found(dataset_id)
        _check_tree_shape(shape)
        total = sum(obj.size for obj in objects)
        free = shutil.disk_usage(folder).free
        if total > free:
            # Fail before the first byte rather than with a full disk halfway through.
            raise ResourceError(
                f"dataset {dataset_id} needs {format_bytes(total)} but only {format_bytes(free)} "
                f"are free where it is being written ({folder.parent}); free space or choose a "
                "destination on a larger volume (TMP_DIR)"
            )
        with TransferProgress(
            f"dataset {dataset_id}", total_files=len(items), total_bytes=total
        ) as progress:
            report = self.fetcher.fetch(items, progress)
        if report.missing:
            raise self._missing_error(
                [item.key for item in report.missing],
                f"the listing of s3://{self.storage.bucket}/{prefix}",
            )
        return _entries(report.fetched, folder)

    def fill_selective(self, dataset_id: str, folder: Path) -> list[ManifestEntry]:
        """Fetch annotation files, metadata and the listed images into `folder`; the manifest."""
        prefix = dataset_prefix(dataset_id)
        objects, subfolders = self.storage.list_folder(prefix)
        side = [obj for obj in objects if is_dataset_side_file(obj.key[len(prefix) :])]
        annotations = [obj for obj in side if ANNOTATION_FILE_PATTERN.match(obj.key[len(prefix) :])]
        if not annotations:
            if not objects and not subfolders:
                raise self._not_found(dataset_id)
            raise DatasetError(
                f"no annotation file under s3://{self.storage.bucket}/{prefix} (looked for "
                "annotations_{task}.json and annotations.json); use download_dataset() to fetch "
                "the whole prefix"
            )
        side_items = [
            FetchItem(self.storage.bucket, obj.key, folder / obj.key[len(prefix) :]) for obj in side
        ]
        with TransferProgress(f"dataset {dataset_id} annotations", total_files=len(side)) as bar:
            side_report = self.fetcher.fetch(side_items, bar)
        if side_report.missing:
            raise self._missing_error([i.key for i in side_report.missing], "the dataset listing")

        refs = self._listed_images(dataset_id, folder, annotations, prefix)
        image_items = [
            FetchItem(ref.bucket or self.storage.bucket, ref.key, folder.joinpath(*ref.local.parts))
            for ref in refs
        ]
        with TransferProgress(f"dataset {dataset_id}", total_files=len(image_items)) as progress:
            report = self.fetcher.fetch(image_items, progress)
        if report.missing:
            names = sorted(ann.key[len(prefix) :] for ann in annotations)
            raise self._missing_error(
                sorted(item.key for item in report.missing), " and ".join(names), images=True
            )
        logger.info(
            "dataset %s: %d annotation/metadata files and %d images downloaded",
            dataset_id,
            len(side_report.fetched),
            len(report.fetched),
        )
        return _entries([*side_report.fetched, *report.fetched], folder)

    # -- internals ------------------------------------------------------------------------------

    def _listed_images(
        self, dataset_id: str, folder: Path, annotations: list[ObjectInfo], prefix: str
    ) -> list[ImageRef]:
        unique: dict[tuple[str | None, str], ImageRef] = {}
        for obj in annotations:
            name = obj.key[len(prefix) :]
            document = load_annotation_file(folder / name)
            for ref in listed_images(document, file_label=name, dataset_id=dataset_id):
                # Several task files usually list the same images: fetch each once.
                unique.setdefault((ref.bucket, ref.key), ref)
        refs = list(unique.values())
        _check_tree_shape(
            (ref.local, f"s3://{ref.bucket or self.storage.bucket}/{ref.key}") for ref in refs
        )
        return refs

    def _not_found(self, dataset_id: str) -> DatasetError:
        return DatasetError(
            f"dataset {dataset_id!r} not found: nothing under "
            f"s3://{self.storage.bucket}/{dataset_prefix(dataset_id)} at {self.storage.endpoint}; "
            f"check DATASET_ID and {self.storage.settings.bucket_var or 'the bucket'}"
        )

    def _missing_error(self, keys: list[str], source: str, *, images: bool = False) -> DatasetError:
        shown = ", ".join(keys[:MISSING_LISTED_LIMIT])
        more = len(keys) - MISSING_LISTED_LIMIT
        tail = f" (and {more} more)" if more > 0 else ""
        what = "images listed in" if images else "objects from"
        fix = (
            "upload them or remove them from the annotation file"
            if images
            else "the bucket changed during the download; retry"
        )
        return DatasetError(
            f"{len(keys)} {what} {source} are missing from s3://{self.storage.bucket}: "
            f"{shown}{tail}; {fix}"
        )
