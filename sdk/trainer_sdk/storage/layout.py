"""Where things live in the two buckets (PLATFORM_CONTRACT.md section 5).

The key templates come from `schemas/storage-layout.json` through the generated
`trainer_contract.storage_layout`; every other storage module asks this one.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from trainer_contract import storage_layout

__all__ = [
    "ANNOTATION_FILE_PATTERN",
    "CHECKPOINT_SUFFIX",
    "METADATA_FILE",
    "checkpoint_key",
    "dataset_prefix",
    "default_image_root",
    "is_dataset_side_file",
    "local_image_folder",
]

# `annotations_{task}.json`, or the single `annotations.json` of older datasets.
ANNOTATION_FILE_PATTERN = re.compile(storage_layout.ANNOTATION_FILE_PATTERN)
METADATA_FILE = storage_layout.METADATA_FILE
CHECKPOINT_SUFFIX = PurePosixPath(storage_layout.CHECKPOINT_KEY).suffix
# `file_name` in an annotation file is relative to the dataset's images folder.
_IMAGES_FOLDER = storage_layout.IMAGES_FOLDER


def dataset_prefix(dataset_id: str) -> str:
    """The key prefix of a dataset in the external bucket: `datasets/{dataset_id}/`."""
    return storage_layout.DATASET_PREFIX.format(dataset_id=dataset_id)


def default_image_root(dataset_id: str) -> str:
    """The images' key prefix when an annotation file has no `storage_info.image_root`."""
    return f"{dataset_prefix(dataset_id)}{_IMAGES_FOLDER}/"


def local_image_folder() -> PurePosixPath:
    """Where images land under the destination folder (what the converters read)."""
    return PurePosixPath(_IMAGES_FOLDER)


def is_dataset_side_file(name: str) -> bool:
    """True for the top-level files selective download fetches besides the images."""
    return name == METADATA_FILE or ANNOTATION_FILE_PATTERN.match(name) is not None


def checkpoint_key(job_id: int, name: str) -> str:
    """The internal-bucket key of checkpoint `name` of job `job_id`: `checkpoints/{id}/{name}.pt`."""
    return storage_layout.CHECKPOINT_KEY.format(job_id=job_id, name=name)
