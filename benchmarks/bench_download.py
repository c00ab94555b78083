"""Dataset download speed against a real S3 server (SeaweedFS on loopback).

    python benchmarks/bench_download.py [--images 5000] [--size 20480] [--rounds 2]

Puts a DICE dataset of N images (plus N/5 unlisted ones) into a fresh SeaweedFS, then measures in
the same run:

- baseline: a plain sequential boto3 loop, `download_file` per listed image (what most SDKs
  do), and the leaner `get_object` + write loop;
- `download_dataset_selective` (annotation file, then the listed images over signed GETs);
- `download_dataset_with_cache`: the cold fill, then a warm materialisation into a new folder.

Prints images/s of each and the ratios. Targets (issue 4): selective >= 4x the download_file loop;
warm cache < 0.5 s. Every run writes into a fresh folder; old outputs are deleted after timing (a
mass delete slows the next file creations on this disk, see DEPENDENCY_NOTES.md).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from trainer_sdk.storage import StorageService
from trainer_sdk.storage.settings import DEFAULT_TRANSFER_WORKERS
from trainer_tools.services.seaweed import SeaweedServer

DATASETS = "training-datasets"
CHECKPOINTS = "training-checkpoints"


def _populate(server: SeaweedServer, dataset_id: str, images: int, size: int) -> list[str]:
    client = server.client(max_pool_connections=16)
    listed = [f"{i // 1000:02d}/img_{i:06d}.jpg" for i in range(images)]
    unlisted = [f"unlabelled/img_{i:06d}.jpg" for i in range(images // 5)]
    body = bytes(range(256)) * (size // 256 + 1)

    def put(name: str) -> None:
        client.put_object(
            Bucket=DATASETS, Key=f"datasets/{dataset_id}/images/{name}", Body=body[:size]
        )

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(put, listed + unlisted))
    document = {
        "format_version": "1.0",
        "task_type": "classification",
        "classes": [{"id": 0, "name": "thing"}],
        "images": [
            {"id": i, "file_name": name, "width": 64, "height": 64, "annotations": []}
            for i, name in enumerate(listed)
        ],
    }
    client.put_object(
        Bucket=DATASETS,
        Key=f"datasets/{dataset_id}/annotations_classification.json",
        Body=json.dumps(document).encode(),
    )
    return listed


def _timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def _file_creation_cost(folder: Path, files: int = 300) -> float:
    """Microseconds to create one small file here now (it varies 10x on a busy ext4)."""
    folder.mkdir(parents=True)
    start = time.perf_counter()
    for index in range(files):
        (folder / str(index)).write_bytes(b"x" * 1024)
    return (time.perf_counter() - start) / files * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--size", type=int, default=20 * 1024, help="bytes per image")
    parser.add_argument("--rounds", type=int, default=2, help="repetitions (median reported)")
    parser.add_argument(
        "--workers", type=int, default=DEFAULT_TRANSFER_WORKERS, help="SDK transfer threads"
    )
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="bench-download-"))
    outputs: list[Path] = []

    def fresh(name: str) -> Path:
        path = work / "out" / f"{name}-{len(outputs)}"
        outputs.append(path)
        return path

    try:
        with SeaweedServer(work / "s3") as server:
            server.create_bucket(DATASETS)
            server.create_bucket(CHECKPOINTS)
            dataset_id = "ds_bench"
            started = time.perf_counter()
            listed = _populate(server, dataset_id, args.images, args.size)
            print(
                f"dataset: {len(listed)} listed + {len(listed) // 5} unlisted images of "
                f"{args.size} B, uploaded in {time.perf_counter() - started:.1f} s"
            )
            env = {
                "EXTERNAL_STORAGE_ENDPOINT": server.endpoint,
                "EXTERNAL_STORAGE_ACCESS_KEY": server.access_key,
                "EXTERNAL_STORAGE_SECRET_KEY": server.secret_key,
                "INTERNAL_STORAGE_ENDPOINT": server.endpoint,
                "INTERNAL_STORAGE_ACCESS_KEY": server.access_key,
                "INTERNAL_STORAGE_SECRET_KEY": server.secret_key,
                "DATASET_CACHE_DIR": str(work / "cache"),
            }
            baseline_client = server.client()
            prefix = f"datasets/{dataset_id}/images/"

            def boto3_download_file_loop() -> None:
                dest = fresh("boto3-download-file")
                for name in listed:
                    target = dest / "images" / name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    baseline_client.download_file(DATASETS, prefix + name, str(target))

            def boto3_get_object_loop() -> None:
                dest = fresh("boto3-get-object")
                for name in listed:
                    target = dest / "images" / name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    body = baseline_client.get_object(Bucket=DATASETS, Key=prefix + name)["Body"]
                    target.write_bytes(body.read())

            with StorageService.from_env(env, job_id=1, workers=args.workers) as service:
                # Warm both paths' connections and the server's metadata a little.
                service.download_dataset_selective(dataset_id, fresh("warmup"))

                times: dict[str, list[float]] = {
                    "download_file": [],
                    "get_object": [],
                    "selective": [],
                }
                runs: dict[str, Callable[[], object]] = {
                    "download_file": boto3_download_file_loop,
                    "get_object": boto3_get_object_loop,
                    "selective": lambda: service.download_dataset_selective(
                        dataset_id, fresh("selective")
                    ),
                }
                # ABBA order per pair of rounds: the disk's file-creation cost drifts during a
                # run (DEPENDENCY_NOTES.md), and this spreads the drift evenly.
                order = list(runs)
                for round_index in range(args.rounds):
                    probe = _file_creation_cost(work / "probe" / str(round_index))
                    print(f"round {round_index + 1}: file creation on this disk {probe:.0f} us")
                    for name in order if round_index % 2 == 0 else order[::-1]:
                        times[name].append(_timed(runs[name]))
                cold = _timed(
                    lambda: service.download_dataset_with_cache(
                        "snap", dataset_id, "bench-v1", fresh("cache-cold")
                    )
                )
                warm_runs = [
                    _timed(
                        lambda: service.download_dataset_with_cache(
                            "snap", dataset_id, "bench-v1", fresh("cache-warm")
                        )
                    )
                    for _ in range(3)
                ]
                assert service.last_cache_result is not None
                assert service.last_cache_result.outcome == "hit"
                # A pod ending deletes its view: the unlinks move the cached files' ctimes, so
                # the next hit re-reads every file and checks its SHA-256 (cache.py, Integrity).
                for view in list((work / "out").glob("cache-warm-*")):
                    shutil.rmtree(view)
                rehashed = _timed(
                    lambda: service.download_dataset_with_cache(
                        "snap", dataset_id, "bench-v1", fresh("cache-rehash")
                    )
                )
                assert service.last_cache_result.outcome == "hit"

        n = len(listed)
        rate = {name: n / statistics.median(values) for name, values in times.items()}
        print(f"boto3 download_file loop, sequential : {rate['download_file']:8.0f} images/s")
        print(f"boto3 get_object loop, sequential    : {rate['get_object']:8.0f} images/s")
        print(f"download_dataset_selective           : {rate['selective']:8.0f} images/s")
        ratio = rate["selective"] / rate["download_file"]
        print(f"ratio selective / download_file loop : {ratio:8.2f}x  (target >= 4x)")
        versus_get_object = rate["selective"] / rate["get_object"]
        print(f"ratio selective / get_object loop    : {versus_get_object:8.2f}x")
        print(f"cache cold fill (selective + manifest): {cold:7.2f} s ({n / cold:.0f} images/s)")
        warm = statistics.median(warm_runs)
        print(
            f"cache warm materialisation (median of 3): {warm:5.3f} s  (target < 0.5 s; "
            f"runs {', '.join(f'{t:.3f}' for t in warm_runs)})"
        )
        print(
            f"cache hit after earlier views were deleted (every file's SHA-256 checked): "
            f"{rehashed:5.3f} s"
        )
        ok = ratio >= 4.0 and warm < 0.5
        print("targets met" if ok else "TARGETS MISSED")
        return 0 if ok else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
