"""Wrong credentials, unreachable endpoints, missing buckets: SDK errors, and never a secret."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest
from s3_dataset_builder import put_dataset
from s3_support import StorageEnv

from trainer_sdk.errors import ConfigError, NetworkError, TrainerSDKError
from trainer_sdk.storage import StorageService
from trainer_tools.services.seaweed import SeaweedServer

pytestmark = pytest.mark.s3

WRONG_SECRET = "wrong-secret-value-1234"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _assert_no_secret(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in text


@pytest.mark.parametrize("operation", ["full", "selective", "cache", "upload", "download"])
def test_wrong_credentials_raise_network_error_naming_endpoint_and_bucket(
    seaweed: SeaweedServer,
    storage_env: StorageEnv,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    operation: str,
) -> None:
    dataset = put_dataset(seaweed.client(), "training-datasets", file_names=["a.jpg"])
    env = storage_env(
        EXTERNAL_STORAGE_SECRET_KEY=WRONG_SECRET,
        INTERNAL_STORAGE_SECRET_KEY=WRONG_SECRET,
        EXTERNAL_STORAGE_ACCESS_KEY="wrong-access-key",
        INTERNAL_STORAGE_ACCESS_KEY="wrong-access-key",
    )
    weights = tmp_path / "w.pt"
    weights.write_bytes(b"w")
    caplog.set_level(logging.DEBUG)
    with StorageService.from_env(env, job_id=1) as service, pytest.raises(NetworkError) as caught:
        if operation == "full":
            service.download_dataset(dataset.dataset_id, tmp_path / "d")
        elif operation == "selective":
            service.download_dataset_selective(dataset.dataset_id, tmp_path / "d")
        elif operation == "cache":
            service.download_dataset_with_cache(None, dataset.dataset_id, "v", tmp_path / "d")
        elif operation == "upload":
            service.upload_checkpoint(weights, "best")
        else:
            service.download_checkpoint(
                "s3://training-checkpoints/checkpoints/1/b.pt", tmp_path / "x"
            )
    message = str(caught.value)
    assert seaweed.endpoint in message
    assert "rejected the credentials" in message
    assert "ACCESS_KEY" in message and "SECRET_KEY" in message  # the variables to fix
    bucket = "training-checkpoints" if operation in ("upload", "download") else "training-datasets"
    assert bucket in message
    _assert_no_secret(message, WRONG_SECRET, "wrong-access-key", seaweed.secret_key)
    _assert_no_secret(caplog.text, WRONG_SECRET, seaweed.secret_key)
    assert not (tmp_path / "d").exists()


def test_unreachable_endpoint_is_a_network_error(storage_env: StorageEnv, tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{_closed_port()}"
    env = storage_env(EXTERNAL_STORAGE_ENDPOINT=dead, INTERNAL_STORAGE_ENDPOINT=dead)
    with StorageService.from_env(env, job_id=1) as service:
        service.external_storage.max_attempts = 1
        with pytest.raises(NetworkError) as caught:
            service.download_dataset_selective("ds_x", tmp_path / "d")
        assert dead in str(caught.value) and "EXTERNAL_STORAGE_ENDPOINT" in str(caught.value)
        weights = tmp_path / "w.pt"
        weights.write_bytes(b"w")
        with pytest.raises(NetworkError, match="INTERNAL_STORAGE_ENDPOINT"):
            service.upload_checkpoint(weights, "best")


def test_missing_bucket_names_the_variable(storage_env: StorageEnv, tmp_path: Path) -> None:
    env = storage_env(EXTERNAL_BUCKET_DATASETS="no-such-bucket-here")
    with StorageService.from_env(env, job_id=1) as service, pytest.raises(ConfigError) as caught:
        service.download_dataset("ds_x", tmp_path / "d")
    assert "no-such-bucket-here" in str(caught.value)
    assert "EXTERNAL_BUCKET_DATASETS" in str(caught.value)


def test_reprs_and_settings_show_no_credentials(
    seaweed: SeaweedServer, storage_env: StorageEnv
) -> None:
    env = storage_env()
    with StorageService.from_env(env, job_id=3) as service:
        shown = " ".join(
            [
                repr(service),
                repr(service.settings),
                repr(service.external_storage),
                repr(service.internal_storage),
                repr(service.cache),
                repr(seaweed),
            ]
        )
    assert seaweed.endpoint in shown
    _assert_no_secret(shown, seaweed.secret_key, seaweed.access_key)


def test_every_storage_error_is_an_sdk_error(storage_env: StorageEnv, tmp_path: Path) -> None:
    with StorageService.from_env(storage_env(), job_id=1) as service:
        for call in (
            lambda: service.download_dataset("", tmp_path / "a"),
            lambda: service.download_checkpoint("nope", tmp_path / "b"),
            lambda: service.upload_file(tmp_path / "none", "k"),
            lambda: service.download_dataset_with_cache(None, "ds_1", "", tmp_path / "c"),
        ):
            with pytest.raises(TrainerSDKError):
                call()
