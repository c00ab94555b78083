"""The node dataset cache: hits, misses, damaged entries, eviction, links, racing jobs."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from s3_dataset_builder import BucketDataset, put_dataset
from s3_support import DATASETS_BUCKET, StorageEnv

from trainer_sdk.errors import ConfigError, DatasetError
from trainer_sdk.storage import StorageService
from trainer_sdk.storage.cache import entry_name
from trainer_tools.services.seaweed import SeaweedServer

pytestmark = pytest.mark.s3

_IMAGES = ["a.jpg", "b/c.jpg", "d.jpg"]


@pytest.fixture
def dataset(seaweed: SeaweedServer) -> BucketDataset:
    return put_dataset(
        seaweed.client(), DATASETS_BUCKET, file_names=_IMAGES, unlisted=("skip.jpg",)
    )


@pytest.fixture
def service(storage_env: StorageEnv) -> Iterator[StorageService]:
    with StorageService.from_env(storage_env(), job_id=5) as storage:
        yield storage


def _tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _cache_dir(service: StorageService) -> Path:
    return service.settings.cache.directory


def _expected(dataset: BucketDataset) -> dict[str, bytes]:
    files = {f"images/{n}": dataset.images[n] for n in _IMAGES}
    files.update(dataset.extra_objects)
    return files


def _delete_dataset(seaweed: SeaweedServer, dataset: BucketDataset) -> None:
    client = seaweed.client()
    listing = client.list_objects_v2(Bucket=DATASETS_BUCKET, Prefix=dataset.prefix)
    for item in listing.get("Contents", []):
        client.delete_object(Bucket=DATASETS_BUCKET, Key=item["Key"])


def test_miss_then_hit_gives_linked_trees_without_touching_s3(
    seaweed: SeaweedServer, service: StorageService, dataset: BucketDataset, tmp_path: Path
) -> None:
    first = service.download_dataset_with_cache(
        "snap1", dataset.dataset_id, "v-hit", tmp_path / "j1"
    )
    assert service.last_cache_result is not None
    assert service.last_cache_result.outcome == "miss"
    assert _tree(Path(first)) == _expected(dataset)

    _delete_dataset(seaweed, dataset)  # a hit must not need the bucket
    second = service.download_dataset_with_cache(
        "snap1", dataset.dataset_id, "v-hit", tmp_path / "j2"
    )
    assert service.last_cache_result.outcome == "hit"
    assert _tree(Path(second)) == _expected(dataset)
    cached = _cache_dir(service) / "v-hit" / "tree" / "images" / "a.jpg"
    assert (Path(second) / "images" / "a.jpg").stat().st_ino == cached.stat().st_ino

    manifest = json.loads((_cache_dir(service) / "v-hit" / "manifest.json").read_text())
    assert manifest["dataset_id"] == dataset.dataset_id
    assert manifest["snapshot_id"] == "snap1"
    assert {f["path"] for f in manifest["files"]} == set(_expected(dataset))
    assert all(f["etag"] and f["size"] > 0 for f in manifest["files"])


def test_damaged_entries_are_downloaded_again(
    service: StorageService, dataset: BucketDataset, tmp_path: Path
) -> None:
    service.download_dataset_with_cache(None, dataset.dataset_id, "v-dmg", tmp_path / "j1")
    cached = _cache_dir(service) / "v-dmg" / "tree" / "images" / "a.jpg"
    cached.chmod(0o644)
    cached.write_bytes(b"corrupted")

    service.download_dataset_with_cache(None, dataset.dataset_id, "v-dmg", tmp_path / "j2")
    assert service.last_cache_result is not None
    assert service.last_cache_result.outcome == "refill"
    assert _tree(tmp_path / "j2") == _expected(dataset)

    # A manifest that no longer matches its completion marker is not trusted either.
    manifest = _cache_dir(service) / "v-dmg" / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"snapshot_id":null', '"snapshot_id":"x"'))
    service.download_dataset_with_cache(None, dataset.dataset_id, "v-dmg", tmp_path / "j3")
    assert service.last_cache_result.outcome == "refill"
    assert _tree(tmp_path / "j3") == _expected(dataset)


def test_an_entry_left_half_filled_by_a_dead_job_is_not_used(
    service: StorageService, dataset: BucketDataset, tmp_path: Path
) -> None:
    leftover = _cache_dir(service) / "v-dead"
    (leftover / "tree" / "images").mkdir(parents=True)
    (leftover / "tree" / "images" / "a.jpg").write_bytes(b"half")
    (leftover / "manifest.json").write_text("{}")
    service.download_dataset_with_cache(None, dataset.dataset_id, "v-dead", tmp_path / "j")
    assert service.last_cache_result is not None
    assert service.last_cache_result.outcome == "refill"
    assert _tree(tmp_path / "j") == _expected(dataset)


def test_a_failed_fill_leaves_no_entry(
    seaweed: SeaweedServer, service: StorageService, tmp_path: Path
) -> None:
    broken = put_dataset(
        seaweed.client(),
        DATASETS_BUCKET,
        file_names=["a.jpg", "gone.jpg"],
        skip_upload=frozenset({"gone.jpg"}),
    )
    with pytest.raises(DatasetError, match=r"gone\.jpg"):
        service.download_dataset_with_cache(None, broken.dataset_id, "v-fail", tmp_path / "j")
    assert not (_cache_dir(service) / "v-fail").exists()
    assert not (tmp_path / "j").exists()
    seaweed.client().put_object(
        Bucket=DATASETS_BUCKET, Key=f"{broken.prefix}images/gone.jpg", Body=b"now here"
    )
    service.download_dataset_with_cache(None, broken.dataset_id, "v-fail", tmp_path / "j")
    assert service.last_cache_result is not None
    assert service.last_cache_result.outcome == "miss"
    assert (tmp_path / "j" / "images" / "gone.jpg").read_bytes() == b"now here"


def _tiny_cache_env(storage_env: StorageEnv, max_bytes: int) -> dict[str, str]:
    return storage_env(DATASET_CACHE_MAX_GB=repr(max_bytes / 1024**3))


def test_lru_eviction_skips_entries_in_use(
    storage_env: StorageEnv, dataset: BucketDataset, tmp_path: Path
) -> None:
    entry_bytes = sum(len(b) for b in _expected(dataset).values())
    env = _tiny_cache_env(storage_env, int(entry_bytes * 2.5))  # room for two entries
    with StorageService.from_env(env, job_id=1) as holder:
        holder.download_dataset_with_cache(None, dataset.dataset_id, "v-old", tmp_path / "h")
        with StorageService.from_env(env, job_id=2) as other:
            other.download_dataset_with_cache(None, dataset.dataset_id, "v-mid", tmp_path / "o1")
            other.cache.release("v-mid")
            time.sleep(0.01)  # distinct LRU clocks
            other.download_dataset_with_cache(None, dataset.dataset_id, "v-new", tmp_path / "o2")
            names = {e.name for e in other.cache.entries()}
            # v-old is the least recently used but in use by `holder`: v-mid goes instead.
            assert names == {"v-old", "v-new"}
    # Released entries become evictable.
    with StorageService.from_env(env, job_id=3) as third:
        third.download_dataset_with_cache(None, dataset.dataset_id, "v-last", tmp_path / "t")
        assert {e.name for e in third.cache.entries()} == {"v-new", "v-last"}
    # The jobs' trees outlive the eviction of their entries (they are links).
    assert _tree(tmp_path / "h") == _expected(dataset)


def test_cache_max_zero_keeps_only_what_is_in_use(
    storage_env: StorageEnv, dataset: BucketDataset, tmp_path: Path
) -> None:
    env = storage_env(DATASET_CACHE_MAX_GB="0")
    with StorageService.from_env(env, job_id=1) as job:
        job.download_dataset_with_cache(None, dataset.dataset_id, "v-zero", tmp_path / "a")
        assert [e.name for e in job.cache.entries()] == ["v-zero"]
        job.cache.release("v-zero")
        assert job.cache.evict() == ["v-zero"]
        assert job.cache.entries() == []


def test_copies_when_links_are_impossible(
    service: StorageService,
    dataset: BucketDataset,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_links(source: object, target: object) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr("trainer_sdk.storage.cache.os.link", no_links)
    service.download_dataset_with_cache(None, dataset.dataset_id, "v-copy", tmp_path / "j")
    copied = tmp_path / "j" / "images" / "a.jpg"
    cached = _cache_dir(service) / "v-copy" / "tree" / "images" / "a.jpg"
    assert copied.read_bytes() == cached.read_bytes()
    assert copied.stat().st_ino != cached.stat().st_ino


def test_version_hash_becomes_a_safe_entry_name() -> None:
    assert entry_name("abc123def456") == "abc123def456"
    odd = entry_name("sha256:../../etc")
    assert "/" not in odd and odd.startswith("h-")
    assert entry_name("sha256:../../etc") == odd
    with pytest.raises(ConfigError, match="DATASET_VERSION_HASH"):
        entry_name("  ")


_RACER = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from trainer_sdk.storage import StorageService
    from trainer_sdk.storage import datasets

    env, dataset_id, dest, go = json.loads(sys.argv[1])
    fills = []
    original = datasets.DatasetDownloader.fill_selective

    def slow_fill(self, dataset_id, folder):
        fills.append(1)
        time.sleep(0.6)  # long enough for the other job to arrive while this one fills
        return original(self, dataset_id, folder)

    datasets.DatasetDownloader.fill_selective = slow_fill
    service = StorageService.from_env(env, job_id=9)
    while not Path(go).exists():
        time.sleep(0.005)
    service.download_dataset_with_cache(None, dataset_id, "v-race", dest)
    print(json.dumps({"outcome": service.last_cache_result.outcome, "fills": len(fills)}))
    """
)


def test_two_jobs_racing_for_one_version_download_it_once(
    storage_env: StorageEnv, dataset: BucketDataset, tmp_path: Path
) -> None:
    env = storage_env()
    go = tmp_path / "go"
    racers = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                _RACER,
                json.dumps([env, dataset.dataset_id, str(tmp_path / f"job{i}"), str(go)]),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    time.sleep(0.5)  # both imported and waiting
    go.touch()
    results = []
    for racer in racers:
        out, err = racer.communicate(timeout=60)
        assert racer.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert sorted(r["outcome"] for r in results) == ["hit", "miss"]
    assert sum(r["fills"] for r in results) == 1
    for i in range(2):
        assert _tree(tmp_path / f"job{i}") == _expected(dataset)
    assert not os.path.exists(tmp_path / "dataset-cache" / "v-race" / "tree.partial")
