"""`StorageService`: every storage call of the SDK, behind one object the facade delegates to.

storage = StorageService.from_env(os.environ, job_id=42)
folder = storage.download_dataset_selective("ds_abc123", "/tmp/dataset")
uri = storage.upload_checkpoint("/workspace/best.pt", "best")
storage.close()
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import TracebackType

from trainer_contract.sdk_api import SDK_METHODS
from trainer_sdk.errors import CheckpointError, ConfigError, DatasetError
from trainer_sdk.storage.cache import CacheResult, DatasetCache
from trainer_sdk.storage.checkpoints import CheckpointStore
from trainer_sdk.storage.datasets import DatasetDownloader, check_dataset_id
from trainer_sdk.storage.failures import local_error
from trainer_sdk.storage.fetch import ObjectFetcher
from trainer_sdk.storage.progress import TransferProgress
from trainer_sdk.storage.s3 import S3Storage
from trainer_sdk.storage.settings import DEFAULT_TRANSFER_WORKERS, StorageSettings

__all__ = ["StorageService"]

logger = logging.getLogger("trainer_sdk.storage")

# The accepted storage types, from the SDK's argument schema.
_STORAGE_TYPES: tuple[str, ...] = tuple(
    next(p for p in SDK_METHODS["upload_file"].params if p.name == "storage_type").schema["enum"]
)


class StorageService:
    """Datasets from the external bucket, checkpoints and results to the internal one.

    Build it with `from_env(env, job_id=...)` or from `StorageSettings`. `close()` releases the
    connection pools and the dataset-cache entries this job uses.
    """

    def __init__(self, settings: StorageSettings, *, job_id: int) -> None:
        self.settings = settings
        self.job_id = job_id
        self.external_storage = S3Storage(
            settings.external, workers=settings.workers, not_found=DatasetError
        )
        self.internal_storage = S3Storage(
            settings.internal, workers=settings.workers, not_found=CheckpointError
        )
        self._datasets = DatasetDownloader(
            self.external_storage, ObjectFetcher(self.external_storage, in_staged_folder=True)
        )
        self._checkpoints = CheckpointStore(self.internal_storage, job_id)
        self.cache = DatasetCache(settings.cache)
        # What the last cached download did (hit, miss or refill), for logs and diagnostics.
        self.last_cache_result: CacheResult | None = None

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str],
        *,
        job_id: int,
        workers: int = DEFAULT_TRANSFER_WORKERS,
    ) -> StorageService:
        """Build the service from the contract's storage and cache variables in `env`."""
        return cls(StorageSettings.from_env(env, workers=workers), job_id=job_id)

    # -- datasets -------------------------------------------------------------------------------

    def download_dataset(self, dataset_id: str, dest_dir: str | os.PathLike[str]) -> str:
        """Download the whole `datasets/{dataset_id}/` prefix into `dest_dir`; returns it."""
        with _local_errors(f"downloading dataset {dataset_id!r}"):
            return self._datasets.download(dataset_id, dest_dir)

    def download_dataset_selective(self, dataset_id: str, dest_dir: str | os.PathLike[str]) -> str:
        """Download the annotation files and only the images they list; returns `dest_dir`."""
        with _local_errors(f"downloading dataset {dataset_id!r}"):
            return self._datasets.download_selective(dataset_id, dest_dir)

    def download_dataset_with_cache(
        self,
        snapshot_id: str | None,
        dataset_id: str,
        dataset_version_hash: str,
        dest_dir: str | os.PathLike[str],
    ) -> str:
        """Materialise the dataset from the node's cache, downloading it (selectively) once per
        version hash; returns `dest_dir`, a tree of links into the cache."""
        dataset_id = check_dataset_id(dataset_id)
        with _local_errors(f"downloading dataset {dataset_id!r} through the cache"):
            result = self.cache.materialise(
                dataset_version_hash,
                dest_dir,
                lambda folder: self._datasets.fill_selective(dataset_id, folder),
                dataset_id=dataset_id,
                snapshot_id=snapshot_id,
            )
        self.last_cache_result = result
        return result.path

    # -- checkpoints and results ----------------------------------------------------------------

    def upload_checkpoint(self, local_path: str | os.PathLike[str], name: str) -> str:
        """Upload a checkpoint to `checkpoints/{job_id}/{name}.pt`; returns its s3:// URI."""
        return self._checkpoints.upload(local_path, name)

    def download_checkpoint(self, s3_uri: str, local_path: str | os.PathLike[str]) -> str:
        """Download a checkpoint of the checkpoint bucket by URI; returns the local path."""
        with _local_errors(f"downloading checkpoint {s3_uri}"):
            return self._checkpoints.download(s3_uri, local_path)

    def upload_file(
        self,
        local_path: str | os.PathLike[str],
        key: str | None = None,
        content_type: str | None = None,
        storage_type: str = "internal",
        *,
        s3_key: str | None = None,
    ) -> str:
        """Upload any file to `key` of the internal (default) or external bucket; the s3:// URI.

        `s3_key` is accepted as another name of `key` (the SDK's argument schema calls it so).
        """
        key = key if key is not None else s3_key
        if not key:
            raise ConfigError("upload_file needs the object key, e.g. 'job42/plots/loss.png'")
        if storage_type not in _STORAGE_TYPES:
            raise ConfigError(
                f"storage_type {storage_type!r} is not one of {', '.join(_STORAGE_TYPES)}; "
                "'internal' is the checkpoint bucket, 'external' the dataset bucket"
            )
        storage = self.internal_storage if storage_type == "internal" else self.external_storage
        with TransferProgress(f"upload {os.path.basename(key)}", total_files=1) as progress:
            uri = storage.upload_file(local_path, key, content_type, progress=progress)
            progress.file_done()
        return uri

    # -- lifecycle ------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the S3 connection pools and release the cache entries this job uses."""
        self.cache.close()
        self.external_storage.close()
        self.internal_storage.close()

    def __enter__(self) -> StorageService:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"StorageService(job_id={self.job_id}, external={self.external_storage!r}, "
            f"internal={self.internal_storage!r}, cache={self.cache!r})"
        )


@contextmanager
def _local_errors(action: str) -> Iterator[None]:
    """Turn an `OSError` escaping a download into the SDK's local-file error.

    Network failures never arrive here as a bare `OSError` (botocore wraps them, the fetcher
    retries and reports them), so what does is the local filesystem's: a name too long, a path
    too deep, no permission, a full disk. It must not read as "cannot reach S3".
    """
    try:
        yield
    except OSError as error:
        raise local_error(error, action) from error
