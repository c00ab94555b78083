"""Checkpoints, result uploads and the legacy `internal_storage` / `external_storage` surface."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from s3_support import CHECKPOINTS_BUCKET, DATASETS_BUCKET, StorageEnv

from trainer_sdk.errors import CheckpointError, ConfigError, DatasetError
from trainer_sdk.storage import StorageService
from trainer_tools.services.seaweed import SeaweedServer

pytestmark = pytest.mark.s3

JOB_ID = 4242


@pytest.fixture
def service(storage_env: StorageEnv) -> Iterator[StorageService]:
    with StorageService.from_env(storage_env(), job_id=JOB_ID) as storage:
        yield storage


def test_upload_checkpoint_lands_under_the_job_with_binary_content_type(
    seaweed: SeaweedServer, service: StorageService, tmp_path: Path
) -> None:
    weights = tmp_path / "best.pt"
    weights.write_bytes(b"\x80\x02weights" * 100)
    uri = service.upload_checkpoint(str(weights), "best")
    assert uri == f"s3://{CHECKPOINTS_BUCKET}/checkpoints/{JOB_ID}/best.pt"
    head = seaweed.client().head_object(
        Bucket=CHECKPOINTS_BUCKET, Key=f"checkpoints/{JOB_ID}/best.pt"
    )
    assert head["ContentType"] == "application/octet-stream"
    assert head["ContentLength"] == weights.stat().st_size
    # A name given with its suffix is the same checkpoint.
    assert service.upload_checkpoint(weights, "epoch_50.pt").endswith(f"/{JOB_ID}/epoch_50.pt")


def test_checkpoint_round_trip_and_download_into_a_folder(
    service: StorageService, tmp_path: Path
) -> None:
    weights = tmp_path / "last.pt"
    weights.write_bytes(bytes(range(256)) * 40)
    uri = service.upload_checkpoint(weights, "last")
    copy = service.download_checkpoint(uri, str(tmp_path / "fine-tune" / "init.pt"))
    assert Path(copy).read_bytes() == weights.read_bytes()
    folder = tmp_path / "weights"
    folder.mkdir()
    into_folder = service.download_checkpoint(uri, folder)
    assert into_folder == str(folder / "last.pt")
    assert not [p for p in folder.iterdir() if p.name.endswith(".part")]


def test_large_checkpoints_go_multipart(
    seaweed: SeaweedServer, service: StorageService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # S3's smallest part is 5 MiB; lower the threshold so the test stays small.
    monkeypatch.setattr("trainer_sdk.storage.s3.MULTIPART_THRESHOLD", 5 * 1024 * 1024)
    monkeypatch.setattr("trainer_sdk.storage.s3.MULTIPART_CHUNK", 5 * 1024 * 1024)
    big = tmp_path / "big.pt"
    big.write_bytes(b"\x01" * (11 * 1024 * 1024))
    service.upload_checkpoint(big, "big")
    head = seaweed.client().head_object(
        Bucket=CHECKPOINTS_BUCKET, Key=f"checkpoints/{JOB_ID}/big.pt"
    )
    assert head["ETag"].strip('"').endswith("-3")  # three parts
    back = service.download_checkpoint(
        f"s3://{CHECKPOINTS_BUCKET}/checkpoints/{JOB_ID}/big.pt", tmp_path / "b.pt"
    )
    assert Path(back).stat().st_size == big.stat().st_size


def test_checkpoint_errors_name_what_is_wrong(service: StorageService, tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="does not exist"):
        service.upload_checkpoint(tmp_path / "never-saved.pt", "best")
    with pytest.raises(CheckpointError, match="is a folder"):
        service.upload_checkpoint(tmp_path, "best")
    weights = tmp_path / "w.pt"
    weights.write_bytes(b"w")
    for bad_name in ["", "a/b", "..", "best model"]:
        with pytest.raises(CheckpointError, match="checkpoint name"):
            service.upload_checkpoint(weights, bad_name)
    # The guide's example URI names a bucket that is not the configured one.
    with pytest.raises(CheckpointError) as caught:
        service.download_checkpoint("s3://checkpoints/previous_job/best.pt", tmp_path / "p.pt")
    message = str(caught.value)
    assert "'checkpoints'" in message and CHECKPOINTS_BUCKET in message
    assert "INTERNAL_BUCKET_CHECKPOINTS" in message
    with pytest.raises(CheckpointError, match="does not exist"):
        service.download_checkpoint(
            f"s3://{CHECKPOINTS_BUCKET}/checkpoints/1/missing.pt", tmp_path / "m.pt"
        )
    assert not (tmp_path / "m.pt").exists()
    for not_a_uri in ["best.pt", "s3://bucket-only", "s3://b/folder/", "http://x/y"]:
        with pytest.raises(CheckpointError, match="not an S3 object URI"):
            service.download_checkpoint(not_a_uri, tmp_path / "x.pt")


def test_upload_file_to_either_bucket_with_guessed_or_given_type(
    seaweed: SeaweedServer, service: StorageService, tmp_path: Path
) -> None:
    plot = tmp_path / "confusion_matrix.png"
    plot.write_bytes(b"\x89PNG....")
    key = f"job{JOB_ID}/validation/confusion_matrix.png"
    uri = service.upload_file(str(plot), key, content_type="image/png", storage_type="internal")
    assert uri == f"s3://{CHECKPOINTS_BUCKET}/{key}"
    client = seaweed.client()
    assert client.head_object(Bucket=CHECKPOINTS_BUCKET, Key=key)["ContentType"] == "image/png"

    report = tmp_path / "report.json"
    report.write_text("{}")
    uri = service.upload_file(report, "exports/r.json", storage_type="external")
    assert uri == f"s3://{DATASETS_BUCKET}/exports/r.json"
    head = client.head_object(Bucket=DATASETS_BUCKET, Key="exports/r.json")
    assert head["ContentType"] == "application/json"
    assert service.upload_file(report, s3_key="exports/s.json").endswith("/exports/s.json")

    with pytest.raises(ConfigError, match="storage_type 'cold'"):
        service.upload_file(report, "x.json", storage_type="cold")
    with pytest.raises(DatasetError, match="no such file"):
        service.upload_file(tmp_path / "nope.bin", "x.bin", storage_type="external")


def test_legacy_storage_objects_work_like_the_old_sdk(
    seaweed: SeaweedServer, service: StorageService, tmp_path: Path
) -> None:
    internal = service.internal_storage
    assert internal.bucket == CHECKPOINTS_BUCKET
    assert service.external_storage.bucket == DATASETS_BUCKET
    source = tmp_path / "export.onnx"
    source.write_bytes(b"onnx" * 64)
    uri = internal.upload_file(
        str(source), f"exports/{JOB_ID}/model.onnx", "application/octet-stream"
    )
    assert uri == f"s3://{CHECKPOINTS_BUCKET}/exports/{JOB_ID}/model.onnx"
    listing = internal.client.list_objects_v2(Bucket=internal.bucket, Prefix=f"exports/{JOB_ID}/")
    assert [item["Key"] for item in listing["Contents"]] == [f"exports/{JOB_ID}/model.onnx"]
    internal.client.download_file(
        internal.bucket, f"exports/{JOB_ID}/model.onnx", str(tmp_path / "a")
    )
    assert (tmp_path / "a").read_bytes() == source.read_bytes()
    local = internal.download_file(f"exports/{JOB_ID}/model.onnx", tmp_path / "deep" / "b.onnx")
    assert Path(local).read_bytes() == source.read_bytes()
    with pytest.raises(CheckpointError, match="does not exist"):
        internal.download_file("exports/none.onnx", tmp_path / "c")
    assert sorted(p.name for p in (tmp_path / "deep").iterdir()) == ["b.onnx"]
