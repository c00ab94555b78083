"""Storage settings from the environment contract (no server needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from trainer_contract.env import ENV_VARS
from trainer_sdk.errors import ConfigError
from trainer_sdk.storage import StorageService, StorageSettings


def test_defaults_come_from_the_contract() -> None:
    settings = StorageSettings.from_env({})
    assert settings.external.endpoint == ENV_VARS["EXTERNAL_STORAGE_ENDPOINT"].default
    assert settings.external.bucket == ENV_VARS["EXTERNAL_BUCKET_DATASETS"].default
    assert settings.internal.endpoint == ENV_VARS["INTERNAL_STORAGE_ENDPOINT"].default
    assert settings.internal.bucket == ENV_VARS["INTERNAL_BUCKET_CHECKPOINTS"].default
    assert settings.external.secret_key == ENV_VARS["EXTERNAL_STORAGE_SECRET_KEY"].default
    assert settings.cache.directory == Path(ENV_VARS["DATASET_CACHE_DIR"].default)
    assert settings.cache.max_bytes == int(
        float(ENV_VARS["DATASET_CACHE_MAX_GB"].default) * 1024**3
    )


def test_environment_overrides_and_blank_values_fall_back() -> None:
    settings = StorageSettings.from_env(
        {
            "EXTERNAL_STORAGE_ENDPOINT": "https://s3.example:9000/",
            "EXTERNAL_BUCKET_DATASETS": "ds-bucket",
            "INTERNAL_BUCKET_CHECKPOINTS": "   ",
            "DATASET_CACHE_MAX_GB": "1.5",
            "DATASET_CACHE_DIR": "/data/cache",
        },
        workers=3,
    )
    assert settings.external.endpoint == "https://s3.example:9000"
    assert settings.external.bucket == "ds-bucket"
    assert settings.internal.bucket == ENV_VARS["INTERNAL_BUCKET_CHECKPOINTS"].default
    assert settings.cache.max_bytes == int(1.5 * 1024**3)
    assert settings.cache.directory == Path("/data/cache")
    assert settings.workers == 3
    service = StorageService(settings, job_id=8)
    assert service.external_storage.workers == 3
    assert service.external_storage.client.meta.config.max_pool_connections == 3
    assert service.external_storage.client.meta.config.retries["mode"] == "standard"
    assert service.external_storage.client.meta.config.signature_version == "s3v4"
    service.close()


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"EXTERNAL_STORAGE_ENDPOINT": "minio:9000"}, "EXTERNAL_STORAGE_ENDPOINT"),
        ({"INTERNAL_STORAGE_ENDPOINT": "ftp://x"}, "INTERNAL_STORAGE_ENDPOINT"),
        ({"DATASET_CACHE_MAX_GB": "lots"}, "DATASET_CACHE_MAX_GB"),
        ({"DATASET_CACHE_MAX_GB": "-1"}, "DATASET_CACHE_MAX_GB"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], names: str) -> None:
    with pytest.raises(ConfigError, match=names):
        StorageSettings.from_env(env)


def test_secrets_never_shown_even_when_invalid() -> None:
    settings = StorageSettings.from_env(
        {"EXTERNAL_STORAGE_SECRET_KEY": "s3cr3t-value", "EXTERNAL_STORAGE_ACCESS_KEY": "AKIAXYZ"}
    )
    assert "s3cr3t-value" not in repr(settings)
    assert "AKIAXYZ" not in repr(settings)
    with pytest.raises(ConfigError):
        StorageSettings.from_env({}, workers=0)
