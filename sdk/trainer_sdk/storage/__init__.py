"""Datasets and checkpoints over S3, with a node-wide dataset cache.

    from trainer_sdk.storage import StorageService

    storage = StorageService.from_env(os.environ, job_id=42)
    storage.download_dataset_with_cache(snapshot_id, dataset_id, version_hash, "/tmp/dataset")

Modules: `settings` (env contract -> settings), `s3` (one bucket: the `external_storage` /
`internal_storage` object), `fetch` (parallel signed GETs), `datasets` (full and selective
downloads), `annotations` (which images a DICE file lists), `cache` (the shared cache),
`checkpoints`, `safety` (paths stay inside their folder), `staging` (nothing half-done looks
done), `progress`, `failures` (botocore errors -> SDK errors), `layout` (bucket key layout),
`service` (`StorageService`, what the `TrainerSDK` facade delegates to).
"""

from __future__ import annotations

from trainer_sdk.storage.cache import CacheResult, DatasetCache
from trainer_sdk.storage.s3 import S3Storage
from trainer_sdk.storage.service import StorageService
from trainer_sdk.storage.settings import CacheSettings, EndpointSettings, StorageSettings

__all__ = [
    "CacheResult",
    "CacheSettings",
    "DatasetCache",
    "EndpointSettings",
    "S3Storage",
    "StorageService",
    "StorageSettings",
]
