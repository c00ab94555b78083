"""One S3 endpoint + bucket: the `sdk.external_storage` / `sdk.internal_storage` object.

Existing trainers use `.bucket`, `.client` (a boto3 S3 client, for `list_objects_v2` and
`download_file`), `.download_file(key, local)` and `.upload_file(local, key, content_type)`
(PLATFORM_CONTRACT.md section 7). The client signs with SigV4, retries in botocore's `standard`
mode, and keeps a connection pool as large as the transfer pool, so parallel transfers never wait
for a connection.
"""

from __future__ import annotations

import mimetypes
import os
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.credentials import Credentials

from trainer_sdk.errors import DatasetError, TrainerSDKError
from trainer_sdk.redaction import install_log_filter
from trainer_sdk.storage.failures import translate
from trainer_sdk.storage.progress import TransferProgress
from trainer_sdk.storage.settings import DEFAULT_TRANSFER_WORKERS, EndpointSettings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = [
    "MULTIPART_CHUNK",
    "MULTIPART_THRESHOLD",
    "ObjectInfo",
    "S3Storage",
    "guess_content_type",
]

# Checkpoints are tens to hundreds of MB: parts of 16 MiB above 64 MiB keep memory bounded and
# let a failed part be retried alone.
MULTIPART_THRESHOLD = 64 * 1024 * 1024
MULTIPART_CHUNK = 16 * 1024 * 1024
FALLBACK_CONTENT_TYPE = "application/octet-stream"
_MIME_TYPES = mimetypes.MimeTypes()  # a fresh instance holds only the built-in table


def guess_content_type(name: str) -> str:
    """The MIME type for a file name (`.png` -> `image/png`), `application/octet-stream` if unknown.

    Uses Python's built-in table only: the machine's /etc/mime.types differs between images
    (one maps `.pt` to a SNES page table).
    """
    guessed, _encoding = _MIME_TYPES.guess_type(name, strict=False)
    return guessed or FALLBACK_CONTENT_TYPE


@dataclass(frozen=True)
class ObjectInfo:
    """One listed object: key, size in bytes, ETag without quotes."""

    key: str
    size: int
    etag: str


class S3Storage:
    """A bucket on an S3 endpoint, with the surface existing trainers call.

    `not_found` is the SDK error raised for a missing object (`DatasetError` for the dataset
    bucket, `CheckpointError` for the checkpoint bucket). Credentials never appear in `repr` or in
    error messages.
    """

    def __init__(
        self,
        settings: EndpointSettings,
        *,
        workers: int = DEFAULT_TRANSFER_WORKERS,
        not_found: type[TrainerSDKError] = DatasetError,
        max_attempts: int = 5,
        connect_timeout: float = 5.0,
        read_timeout: float = 60.0,
    ) -> None:
        self.settings = settings
        self.workers = workers
        self.not_found = not_found
        self.max_attempts = max_attempts
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self._client: S3Client | None = None
        self._client_lock = threading.Lock()

    # -- the legacy surface ---------------------------------------------------------------------

    @property
    def bucket(self) -> str:
        """The bucket's name."""
        return self.settings.bucket

    @property
    def endpoint(self) -> str:
        """The endpoint URL."""
        return self.settings.endpoint

    @property
    def client(self) -> S3Client:
        """The boto3 S3 client (created on first use, shared by every thread)."""
        if self._client is None:
            with self._client_lock:
                if self._client is None:
                    self._client = boto3.client(
                        "s3",
                        endpoint_url=self.settings.endpoint,
                        aws_access_key_id=self.settings.access_key,
                        aws_secret_access_key=self.settings.secret_key,
                        region_name=self.settings.region,
                        config=Config(
                            signature_version="s3v4",
                            s3={"addressing_style": "path"},
                            retries={"mode": "standard", "max_attempts": self.max_attempts},
                            max_pool_connections=self.workers,
                            connect_timeout=self.connect_timeout,
                            read_timeout=self.read_timeout,
                            tcp_keepalive=True,
                        ),
                    )
                    # botocore's DEBUG lines show the request headers, the access key included.
                    install_log_filter(self.settings.secrets)
        return self._client

    def download_file(
        self, key: str, local: str | os.PathLike[str], *, progress: TransferProgress | None = None
    ) -> str:
        """Download object `key` to `local` (folders created); returns `local` as a string.

        The file appears under its final name only once complete.
        """
        target = Path(local)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, partial = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
        os.close(fd)
        try:
            self.client.download_file(
                self.bucket,
                key,
                partial,
                Config=self.transfer_config(),
                Callback=progress.add_bytes if progress is not None else None,
            )
            os.replace(partial, target)
        except BaseException as error:
            Path(partial).unlink(missing_ok=True)
            if isinstance(error, Exception):
                raise self.error(error, action=f"downloading {key}", key=key) from None
            raise
        return str(target)

    def upload_file(
        self,
        local: str | os.PathLike[str],
        key: str,
        content_type: str | None = None,
        *,
        progress: TransferProgress | None = None,
    ) -> str:
        """Upload file `local` to `key` (multipart above 64 MiB); returns the `s3://` URI.

        `content_type` defaults to a guess from the key's extension.
        """
        path = Path(local)
        if not path.is_file():
            raise self.not_found(
                f"cannot upload {path}: no such file; check the path (it must be a file, not a "
                "folder)"
            )
        if not key or key.startswith("/"):
            raise self.not_found(
                f"cannot upload to key {key!r}: use a relative key such as a/b.png"
            )
        extra = {"ContentType": content_type or guess_content_type(key)}
        try:
            self.client.upload_file(
                str(path),
                self.bucket,
                key,
                ExtraArgs=extra,
                Config=self.transfer_config(),
                Callback=progress.add_bytes if progress is not None else None,
            )
        except Exception as error:
            raise self.error(error, action=f"uploading {path.name} to {key}", key=key) from None
        return self.uri(key)

    # -- helpers for the SDK's own transfers ----------------------------------------------------

    def uri(self, key: str, bucket: str | None = None) -> str:
        """`s3://{bucket}/{key}` for a key of this (or another) bucket."""
        return f"s3://{bucket or self.bucket}/{key}"

    def transfer_config(self) -> TransferConfig:
        """boto3 transfer settings: multipart above 64 MiB, `workers` parts in flight."""
        return TransferConfig(
            multipart_threshold=MULTIPART_THRESHOLD,
            multipart_chunksize=MULTIPART_CHUNK,
            max_concurrency=self.workers,
            use_threads=True,
        )

    def credentials(self) -> Credentials:
        """botocore credentials, for signing requests sent without boto3 (the fast GET path)."""
        return Credentials(self.settings.access_key, self.settings.secret_key)

    def list_objects(self, prefix: str, *, bucket: str | None = None) -> Iterator[ObjectInfo]:
        """Every object under `prefix`, in key order (one request per 1,000 keys)."""
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=bucket or self.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    yield ObjectInfo(
                        key=item["Key"],
                        size=int(item["Size"]),
                        etag=item.get("ETag", "").strip('"'),
                    )
        except Exception as error:
            raise self.error(error, action=f"listing {prefix}", bucket=bucket) from None

    def list_folder(self, prefix: str) -> tuple[list[ObjectInfo], list[str]]:
        """The objects directly under `prefix` and its sub-prefixes (one level, like `ls`)."""
        objects: list[ObjectInfo] = []
        folders: list[str] = []
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix, Delimiter="/"):
                for item in page.get("Contents", []):
                    objects.append(
                        ObjectInfo(item["Key"], int(item["Size"]), item.get("ETag", "").strip('"'))
                    )
                folders.extend(p["Prefix"] for p in page.get("CommonPrefixes", []))
        except Exception as error:
            raise self.error(error, action=f"listing {prefix}") from None
        return objects, folders

    def error(
        self,
        error: BaseException,
        *,
        action: str,
        key: str | None = None,
        bucket: str | None = None,
        not_found: type[TrainerSDKError] | None = None,
    ) -> TrainerSDKError:
        """The SDK error for a failure of this storage while `action`."""
        return translate(
            error,
            self.settings,
            action=action,
            bucket=bucket,
            key=key,
            not_found=not_found or self.not_found,
        )

    def close(self) -> None:
        """Close the client's connection pool (a new client is made if used again)."""
        with self._client_lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def __repr__(self) -> str:
        return f"S3Storage(endpoint={self.endpoint!r}, bucket={self.bucket!r})"
