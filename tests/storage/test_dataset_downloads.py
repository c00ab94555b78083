"""Full and selective dataset downloads against a real S3 server (SeaweedFS)."""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from faulty_proxy import FaultyProxy
from s3_dataset_builder import annotation_document, image_bytes, new_dataset_id, put_dataset
from s3_support import DATASETS_BUCKET, StorageEnv

from trainer_sdk.errors import DatasetError, NetworkError, ResourceError
from trainer_sdk.storage import StorageService
from trainer_sdk.storage.datasets import MISSING_LISTED_LIMIT, DatasetDownloader
from trainer_sdk.storage.fetch import ObjectFetcher
from trainer_tools.services.seaweed import SeaweedServer

pytestmark = pytest.mark.s3


@pytest.fixture
def service(storage_env: StorageEnv) -> Iterator[StorageService]:
    with StorageService.from_env(storage_env(), job_id=11) as storage:
        yield storage


def _files(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def _no_partials(parent: Path) -> None:
    leftovers = [p.name for p in parent.rglob("*") if ".partial-" in p.name or p.suffix == ".part"]
    assert leftovers == []


def test_full_download_fetches_every_object_with_its_content(
    seaweed: SeaweedServer, service: StorageService, tmp_path: Path
) -> None:
    names = ["a.jpg", "nested/deep/b.jpg", "with space.jpg", "ünïcode.jpg", "a+b=c&d~e(1).jpg"]
    dataset = put_dataset(
        seaweed.client(),
        DATASETS_BUCKET,
        file_names=names,
        unlisted=("extra.jpg",),
        metadata={"v": 1},
    )
    result = service.download_dataset(dataset.dataset_id, tmp_path / "ds")
    assert result == str(tmp_path / "ds")
    files = _files(tmp_path / "ds")
    expected = {f"images/{name}": content for name, content in dataset.images.items()}
    expected.update(dataset.extra_objects)
    assert files == expected
    _no_partials(tmp_path)


def test_selective_download_fetches_only_listed_images(
    seaweed: SeaweedServer, service: StorageService, tmp_path: Path
) -> None:
    listed = ["1.jpg", "a/same.jpg", "b/same.jpg"]
    dataset = put_dataset(
        seaweed.client(),
        DATASETS_BUCKET,
        file_names=listed,
        unlisted=("unlabelled-1.jpg", "unlabelled-2.jpg"),
        metadata={"name": "demo"},
    )
    service.download_dataset_selective(dataset.dataset_id, tmp_path / "sel")
    files = _files(tmp_path / "sel")
    assert sorted(files) == sorted(
        ["annotations_detection.json", "metadata.json", *(f"images/{n}" for n in listed)]
    )
    for name in listed:
        assert files[f"images/{name}"] == dataset.images[name]


def test_selective_download_unions_task_files_and_reads_legacy_annotations_json(
    seaweed: SeaweedServer, service: StorageService, tmp_path: Path
) -> None:
    flat_coco = {
        "images": [{"id": 1, "file_name": "c.jpg", "width": 1, "height": 1}],
        "annotations": [],
        "categories": [],
    }
    dataset = put_dataset(
        seaweed.client(),
        DATASETS_BUCKET,
        file_names=["a.jpg", "b.jpg", "c.jpg"],
        annotation_files={
            "annotations_detection.json": annotation_document(["a.jpg", "b.jpg"]),
            "annotations_segmentation.json": annotation_document(["b.jpg"], task="segmentation"),
            "annotations.json": flat_coco,
        },
    )
    service.download_dataset_selective(dataset.dataset_id, tmp_path / "sel")
    images = sorted(p.name for p in (tmp_path / "sel" / "images").iterdir())
    assert images == ["a.jpg", "b.jpg", "c.jpg"]


def test_selective_download_honours_image_root(
    seaweed: SeaweedServer, service: StorageService, tmp_path: Path
) -> None:
    client = seaweed.client()
    dataset_id = new_dataset_id()
    shared_root = f"shared-images/{dataset_id}/"
    for name in ["x.jpg", "y/z.jpg"]:
        client.put_object(Bucket=DATASETS_BUCKET, Key=shared_root + name, Body=image_bytes(name))
    put_dataset(
        client,
        DATASETS_BUCKET,
        dataset_id=dataset_id,
        file_names=[],
        annotation_files={
            "annotations_detection.json": annotation_document(
                ["x.jpg", "y/z.jpg"], image_root=shared_root
            )
        },
    )
    service.download_dataset_selective(dataset_id, tmp_path / "sel")
    files = _files(tmp_path / "sel")
    assert files["images/x.jpg"] == image_bytes("x.jpg")
    assert files["images/y/z.jpg"] == image_bytes("y/z.jpg")


def test_missing_images_are_reported_together_with_their_count(
    seaweed: SeaweedServer, service: StorageService, tmp_path: Path
) -> None:
    names = [f"img{i:03d}.jpg" for i in range(MISSING_LISTED_LIMIT + 10)]
    missing = frozenset(names[5:])  # 25 missing
    dataset = put_dataset(seaweed.client(), DATASETS_BUCKET, file_names=names, skip_upload=missing)
    with pytest.raises(DatasetError) as caught:
        service.download_dataset_selective(dataset.dataset_id, tmp_path / "sel")
    message = str(caught.value)
    assert f"{len(missing)} images listed in annotations_detection.json are missing" in message
    assert "(and 5 more)" in message
    shown = [name for name in missing if name in message]
    assert len(shown) == MISSING_LISTED_LIMIT
    # A failed download leaves nothing that looks like a dataset.
    assert not (tmp_path / "sel").exists()
    _no_partials(tmp_path)


@pytest.mark.parametrize(
    "file_name",
    ["../escape.jpg", "images/../../escape.jpg", "/etc/passwd", "..\\evil.jpg", "C:/x.jpg", ""],
)
def test_file_names_escaping_the_destination_are_refused(
    seaweed: SeaweedServer, service: StorageService, tmp_path: Path, file_name: str
) -> None:
    dataset = put_dataset(
        seaweed.client(),
        DATASETS_BUCKET,
        file_names=["ok.jpg"],
        annotation_files={"annotations_detection.json": annotation_document(["ok.jpg", file_name])},
    )
    with pytest.raises(DatasetError) as caught:
        service.download_dataset_selective(dataset.dataset_id, tmp_path / "jail" / "sel")
    assert "images[1] in annotations_detection.json" in str(caught.value)
    assert not (tmp_path / "escape.jpg").exists()
    assert not (tmp_path / "jail" / "sel").exists()


def test_download_never_writes_through_a_link_in_the_destination(
    seaweed: SeaweedServer, service: StorageService, tmp_path: Path
) -> None:
    dataset = put_dataset(seaweed.client(), DATASETS_BUCKET, file_names=["a.jpg"])
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "images").symlink_to(outside, target_is_directory=True)
    with pytest.raises(DatasetError, match="link"):
        service.download_dataset_selective(dataset.dataset_id, dest)
    assert list(outside.iterdir()) == []


def test_existing_destination_receives_the_files_and_keeps_its_own(
    seaweed: SeaweedServer, service: StorageService, tmp_path: Path
) -> None:
    dataset = put_dataset(seaweed.client(), DATASETS_BUCKET, file_names=["a.jpg"])
    dest = tmp_path / "dest"
    (dest / "images").mkdir(parents=True)
    (dest / "notes.txt").write_text("mine")
    (dest / "images" / "a.jpg").write_bytes(b"stale")
    service.download_dataset_selective(dataset.dataset_id, dest)
    assert (dest / "notes.txt").read_text() == "mine"
    assert (dest / "images" / "a.jpg").read_bytes() == dataset.images["a.jpg"]


def test_unknown_dataset_and_dataset_without_annotations(
    seaweed: SeaweedServer, service: StorageService, tmp_path: Path
) -> None:
    with pytest.raises(DatasetError, match="not found") as caught:
        service.download_dataset("ds_does_not_exist", tmp_path / "a")
    assert DATASETS_BUCKET in str(caught.value)
    with pytest.raises(DatasetError, match="not found"):
        service.download_dataset_selective("ds_does_not_exist", tmp_path / "b")
    client = seaweed.client()
    dataset_id = new_dataset_id()
    client.put_object(Bucket=DATASETS_BUCKET, Key=f"datasets/{dataset_id}/images/a.jpg", Body=b"x")
    with pytest.raises(DatasetError, match="no annotation file"):
        service.download_dataset_selective(dataset_id, tmp_path / "c")
    with pytest.raises(DatasetError, match="not a dataset id"):
        service.download_dataset("../other", tmp_path / "d")


def test_annotation_file_that_is_not_json_is_named(
    seaweed: SeaweedServer, service: StorageService, tmp_path: Path
) -> None:
    client = seaweed.client()
    dataset_id = new_dataset_id()
    client.put_object(
        Bucket=DATASETS_BUCKET, Key=f"datasets/{dataset_id}/annotations_pose.json", Body=b"{oops"
    )
    with pytest.raises(DatasetError, match=r"annotations_pose\.json is not valid JSON \(line 1"):
        service.download_dataset_selective(dataset_id, tmp_path / "x")
    client.put_object(
        Bucket=DATASETS_BUCKET,
        Key=f"datasets/{dataset_id}/annotations_pose.json",
        Body=json.dumps({"images": "nope"}).encode(),
    )
    with pytest.raises(DatasetError, match="no `images` list"):
        service.download_dataset_selective(dataset_id, tmp_path / "x")


def test_transient_server_errors_are_retried_per_file(
    seaweed: SeaweedServer, service: StorageService, tmp_path: Path
) -> None:
    dataset = put_dataset(seaweed.client(), DATASETS_BUCKET, file_names=["a.jpg", "b.jpg"])
    storage = service.external_storage
    with FaultyProxy(seaweed.endpoint, fail_keys={"a.jpg"}, status=503, times=2) as proxy:
        fetcher = ObjectFetcher(storage, endpoint=proxy.endpoint, backoff=0.01)
        DatasetDownloader(storage, fetcher).download_selective(dataset.dataset_id, tmp_path / "sel")
    assert proxy.failures == 2
    assert (tmp_path / "sel" / "images" / "a.jpg").read_bytes() == dataset.images["a.jpg"]


def test_a_short_body_is_retried_and_never_kept(
    seaweed: SeaweedServer, service: StorageService, tmp_path: Path
) -> None:
    dataset = put_dataset(seaweed.client(), DATASETS_BUCKET, file_names=["a.jpg", "b.jpg"])
    storage = service.external_storage
    with FaultyProxy(seaweed.endpoint, fail_keys={"b.jpg"}, truncate=True, times=1) as proxy:
        fetcher = ObjectFetcher(
            storage, endpoint=proxy.endpoint, backoff=0.01, in_staged_folder=True
        )
        DatasetDownloader(storage, fetcher).download(dataset.dataset_id, tmp_path / "full")
    assert proxy.failures == 1
    assert (tmp_path / "full" / "images" / "b.jpg").read_bytes() == dataset.images["b.jpg"]


def test_a_file_that_keeps_failing_leaves_no_dataset(
    seaweed: SeaweedServer, service: StorageService, tmp_path: Path
) -> None:
    names = [f"{i}.jpg" for i in range(12)]
    dataset = put_dataset(seaweed.client(), DATASETS_BUCKET, file_names=names)
    storage = service.external_storage
    out = tmp_path / "out"
    out.mkdir()
    with FaultyProxy(seaweed.endpoint, fail_keys={"7.jpg"}, status=500) as proxy:
        fetcher = ObjectFetcher(storage, endpoint=proxy.endpoint, backoff=0.001, max_attempts=3)
        with pytest.raises(NetworkError) as caught:
            DatasetDownloader(storage, fetcher).download(dataset.dataset_id, out / "full")
    assert "after 3 attempts" in str(caught.value)
    assert seaweed.endpoint in str(caught.value)
    assert proxy.failures == 3
    assert os.listdir(out) == []


def test_a_dataset_larger_than_the_free_space_is_refused_up_front(
    seaweed: SeaweedServer,
    service: StorageService,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dataset = put_dataset(seaweed.client(), DATASETS_BUCKET, file_names=["a.jpg"], image_size=4096)
    real = shutil.disk_usage

    def nearly_full(path: str) -> Any:
        return real(path)._replace(free=1000)

    monkeypatch.setattr("trainer_sdk.storage.datasets.shutil.disk_usage", nearly_full)
    with pytest.raises(ResourceError, match="only 1000 B are free"):
        service.download_dataset(dataset.dataset_id, tmp_path / "full")
    assert not (tmp_path / "full").exists()


def test_ranks_downloading_to_one_folder_at_once_all_succeed(
    seaweed: SeaweedServer, storage_env: StorageEnv, tmp_path: Path
) -> None:
    dataset = put_dataset(
        seaweed.client(), DATASETS_BUCKET, file_names=[f"{i}.jpg" for i in range(30)]
    )
    dest = tmp_path / "shared"
    errors: list[BaseException] = []

    def rank() -> None:
        try:
            with StorageService.from_env(storage_env(), job_id=1) as storage:
                storage.download_dataset_selective(dataset.dataset_id, dest)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=rank) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(os.listdir(tmp_path)) == ["shared"]
    assert len(list((dest / "images").iterdir())) == 30
