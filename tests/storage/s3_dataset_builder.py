"""Put small DICE datasets into the test S3 bucket."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def image_bytes(name: str, size: int = 512) -> bytes:
    """Deterministic pseudo-image content for `name` (distinct per name)."""
    seed = hashlib.sha256(name.encode()).digest()
    return (seed * (size // len(seed) + 1))[:size]


def annotation_document(
    file_names: list[str], *, task: str = "detection", image_root: str | None = None, **extra: Any
) -> dict[str, Any]:
    """A nested-layout DICE document listing `file_names`."""
    document: dict[str, Any] = {
        "format_version": "1.0",
        "task_type": task,
        "classes": [{"id": 1, "name": "cat"}],
        "images": [
            {"id": index + 1, "file_name": name, "width": 10, "height": 10, "annotations": []}
            for index, name in enumerate(file_names)
        ],
    }
    if image_root is not None:
        document["storage_info"] = {"image_root": image_root}
    document.update(extra)
    return document


@dataclass
class BucketDataset:
    """A dataset written under `datasets/{dataset_id}/`."""

    dataset_id: str
    images: dict[str, bytes] = field(default_factory=dict)  # file_name -> content
    extra_objects: dict[str, bytes] = field(default_factory=dict)  # key -> content

    @property
    def prefix(self) -> str:
        return f"datasets/{self.dataset_id}/"


def new_dataset_id(tag: str = "ds") -> str:
    """A dataset id no other test uses (the server is shared by the session)."""
    return f"{tag}_{uuid.uuid4().hex[:10]}"


def put_dataset(
    client: S3Client,
    bucket: str,
    *,
    file_names: list[str],
    unlisted: tuple[str, ...] = (),
    annotation_files: dict[str, dict[str, Any]] | None = None,
    metadata: dict[str, Any] | None = None,
    dataset_id: str | None = None,
    image_size: int = 512,
    skip_upload: frozenset[str] = frozenset(),
) -> BucketDataset:
    """Upload images (listed and unlisted), annotation files and metadata.json.

    `annotation_files` maps a file name to its document; by default one `annotations_detection.json`
    lists `file_names`. Names in `skip_upload` are listed but never uploaded (missing images).
    """
    dataset = BucketDataset(dataset_id or new_dataset_id())
    for name in [*file_names, *unlisted]:
        if name in skip_upload:
            continue
        content = image_bytes(name, image_size)
        client.put_object(Bucket=bucket, Key=f"{dataset.prefix}images/{name}", Body=content)
        dataset.images[name] = content
    documents = annotation_files or {"annotations_detection.json": annotation_document(file_names)}
    for name, document in documents.items():
        body = json.dumps(document).encode()
        client.put_object(Bucket=bucket, Key=f"{dataset.prefix}{name}", Body=body)
        dataset.extra_objects[name] = body
    if metadata is not None:
        body = json.dumps(metadata).encode()
        client.put_object(Bucket=bucket, Key=f"{dataset.prefix}metadata.json", Body=body)
        dataset.extra_objects["metadata.json"] = body
    return dataset
