"""Checkpoints in the internal bucket: upload under `checkpoints/{job_id}/{name}.pt`, download by URI."""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath

from trainer_contract.sdk_api import SDK_METHODS
from trainer_sdk.errors import CheckpointError
from trainer_sdk.storage.layout import CHECKPOINT_SUFFIX, checkpoint_key
from trainer_sdk.storage.progress import TransferProgress
from trainer_sdk.storage.s3 import S3Storage, guess_content_type

__all__ = ["CheckpointStore", "parse_s3_uri"]

_URI = re.compile(r"^s3://(?P<bucket>[^/]+)/(?P<key>.+)$")
# What a checkpoint name may be, from the SDK's argument schema.
_NAME = re.compile(
    next(p for p in SDK_METHODS["upload_checkpoint"].params if p.name == "name").schema["pattern"]
)


def parse_s3_uri(uri: object) -> tuple[str, str]:
    """Split `s3://bucket/key` into bucket and key; CheckpointError if it is not such a URI."""
    match = _URI.match(uri) if isinstance(uri, str) else None
    if match is None or match["key"].endswith("/"):
        raise CheckpointError(
            f"{uri!r} is not an S3 object URI; use the s3://bucket/key form that "
            "upload_checkpoint() returns, e.g. s3://training-checkpoints/checkpoints/42/best.pt"
        )
    return match["bucket"], match["key"]


class CheckpointStore:
    """Uploads and downloads the checkpoints of one job."""

    def __init__(self, storage: S3Storage, job_id: int) -> None:
        self.storage = storage
        self.job_id = job_id

    def upload(self, local_path: str | os.PathLike[str], name: str) -> str:
        """Upload `local_path` as checkpoint `name` (`best`, `last`, `epoch_50`); the s3:// URI.

        A name given with the `.pt` suffix is accepted (`best.pt` is `best`).
        """
        if isinstance(name, str) and name.endswith(CHECKPOINT_SUFFIX):
            name = name[: -len(CHECKPOINT_SUFFIX)]
        if not isinstance(name, str) or not _NAME.match(name) or set(name) == {"."}:
            raise CheckpointError(
                f"checkpoint name {name!r} does not match {_NAME.pattern}; "
                "use e.g. 'best', 'last' or 'epoch_50'"
            )
        path = Path(local_path)
        if not path.is_file():
            state = "is a folder" if path.is_dir() else "does not exist"
            raise CheckpointError(
                f"checkpoint file {path} {state}; save the checkpoint (e.g. torch.save) before "
                "uploading it"
            )
        key = checkpoint_key(self.job_id, name)
        size = path.stat().st_size
        with TransferProgress(f"checkpoint {name}", total_files=1, total_bytes=size) as progress:
            uri = self.storage.upload_file(path, key, guess_content_type(key), progress=progress)
            progress.file_done()
        return uri

    def download(self, s3_uri: str, local_path: str | os.PathLike[str]) -> str:
        """Download checkpoint `s3_uri` to `local_path` (into it, if it is a folder); the path.

        The URI's bucket must be the configured checkpoint bucket.
        """
        bucket, key = parse_s3_uri(s3_uri)
        if bucket != self.storage.bucket:
            variable = self.storage.settings.bucket_var or "the checkpoint bucket setting"
            raise CheckpointError(
                f"{s3_uri} names bucket {bucket!r}, but checkpoints are read from "
                f"{self.storage.bucket!r} ({variable}); pass the URI upload_checkpoint() "
                f"returned, e.g. s3://{self.storage.bucket}/{checkpoint_key(self.job_id, 'best')}"
            )
        target = Path(local_path)
        if target.is_dir() or str(local_path).endswith(("/", os.sep)):
            target = target / PurePosixPath(key).name
        with TransferProgress(f"checkpoint {PurePosixPath(key).name}", total_files=1) as progress:
            result = self.storage.download_file(key, target, progress=progress)
            progress.file_done()
        return result
