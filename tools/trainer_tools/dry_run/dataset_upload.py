"""Put a local DICE dataset into the external bucket, in the platform's layout.

`--dataset` is either a folder in the platform layout (annotation files, `metadata.json`,
`images/...`) or one annotation JSON file, whose `images/` folder is taken from beside it. The
dataset id and the task type come from the annotation file; the key layout comes from the SDK's
storage layout module (`trainer_sdk.storage.layout`), the same one the trainer downloads with.
Every annotation file is validated against the contract's DICE schema first, so that a broken
dataset is reported as such, not as a mysterious trainer failure.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from trainer_contract.models.dice.annotations import DiceAnnotations
from trainer_contract.validators import validator
from trainer_sdk.storage.layout import (
    METADATA_FILE,
    dataset_prefix,
    is_dataset_side_file,
    local_image_folder,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = ["DatasetError", "LocalDataset", "find_dataset", "upload_dataset"]

_ANNOTATIONS_SCHEMA = "dice/annotations"


class DatasetError(ValueError):
    """The `--dataset` argument does not name a usable DICE dataset; the message says why."""


@dataclass(frozen=True)
class LocalDataset:
    """A dataset on disk, ready to upload: files as (local path, key relative to its prefix)."""

    dataset_id: str
    task_type: str | None
    files: tuple[tuple[Path, str], ...]

    @property
    def version_hash(self) -> str:
        """A content hash of every file (the dry-run's DATASET_VERSION_HASH)."""
        digest = hashlib.sha256()
        for path, key in self.files:
            digest.update(key.encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        return digest.hexdigest()[:32]


def _read_annotations(path: Path) -> DiceAnnotations:
    try:
        document: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{path.name}: cannot read it as JSON ({exc})") from exc
    errors = validator(_ANNOTATIONS_SCHEMA).errors(document, limit=10)
    if errors:
        shown = "\n".join(f"  {e}" for e in errors)
        raise DatasetError(
            f"{path.name} is not a valid DICE annotation file ({_ANNOTATIONS_SCHEMA}):\n{shown}\n"
            "fix these fields, or convert the file to DICE first"
        )
    return cast(DiceAnnotations, document)


def _images(root: Path) -> Iterator[tuple[Path, str]]:
    images = root / local_image_folder()
    if images.is_dir():
        for path in sorted(images.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                yield path, path.relative_to(root).as_posix()


def find_dataset(source: Path) -> LocalDataset:
    """Collect the files of the dataset at `source` (a folder or an annotation JSON file)."""
    if not source.exists():
        raise DatasetError(f"--dataset {source}: no such file or folder")
    if source.is_file():
        root = source.parent
        side = [source]
        metadata = root / METADATA_FILE
        if metadata.is_file():
            side.append(metadata)
    else:
        root = source
        side = sorted(p for p in root.iterdir() if p.is_file() and is_dataset_side_file(p.name))
    annotation_files = [p for p in side if p.name != METADATA_FILE]
    if not annotation_files:
        raise DatasetError(
            f"--dataset {source}: no annotation file (annotations_<task>.json) in it; give the "
            "dataset folder or the annotation JSON file"
        )
    documents = [_read_annotations(p) for p in annotation_files]
    ids = {str(d["dataset_id"]) for d in documents if d.get("dataset_id") is not None}
    if len(ids) > 1:
        raise DatasetError(
            f"--dataset {source}: the annotation files name different datasets ({sorted(ids)})"
        )
    dataset_id = ids.pop() if ids else root.resolve().name
    tasks = [d.get("task_type") for d in documents if d.get("task_type")]
    files = [(p, p.name) for p in side]
    files += list(_images(root))
    return LocalDataset(dataset_id, str(tasks[0]) if tasks else None, tuple(files))


def upload_dataset(client: S3Client, bucket: str, dataset: LocalDataset) -> str:
    """Upload every file under `datasets/{id}/`; return the dataset's `s3://` URI."""
    prefix = dataset_prefix(dataset.dataset_id)

    def put(item: tuple[Path, str]) -> None:
        path, key = item
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        # upload_file streams from disk and switches to multipart for large files.
        client.upload_file(str(path), bucket, prefix + key, ExtraArgs={"ContentType": content_type})

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(put, dataset.files))
    return f"s3://{bucket}/{prefix}"
