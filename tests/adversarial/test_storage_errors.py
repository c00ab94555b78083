"""A download that fails on the local side says so: a file name too long, a path too deep, a full
disk, a folder it may not write to or a read-only filesystem are local errors naming the path,
never "cannot reach S3". Trainers are real processes against a real S3 server."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from s3_support import DATASETS_BUCKET, StorageEnv

from trainer_tools.services.seaweed import SeaweedServer

pytestmark = pytest.mark.s3

TRAINER = r"""
import sys
from trainer_sdk import TrainerSDK

with TrainerSDK() as sdk:
    method = getattr(sdk, sys.argv[1])
    try:
        method(sys.argv[2], sys.argv[3])
    except Exception as error:
        print(f"{type(error).__name__}: {error}")
        sys.exit(3)
print("downloaded")
"""
# A destination whose last part nearly fills NAME_MAX (255): the SDK's staging folder beside it,
# or a download's temporary file, needs a longer name.
LONG_NAME = "n" * 250
DEEP_KEY = "/".join(["d" * 200] * 4) + "/x.jpg"  # a legal S3 key, too deep under a long folder
METHODS = ("download_dataset", "download_dataset_selective")


def _put(seaweed: SeaweedServer, images: dict[str, bytes]) -> str:
    dataset_id = f"local_{uuid.uuid4().hex[:8]}"
    client = seaweed.client()
    listing = ", ".join(f'{{"id": {i}, "file_name": "{n}"}}' for i, n in enumerate(images, 1))
    client.put_object(
        Bucket=DATASETS_BUCKET,
        Key=f"datasets/{dataset_id}/annotations.json",
        Body=f'{{"images": [{listing}]}}'.encode(),
    )
    for name, body in images.items():
        client.put_object(
            Bucket=DATASETS_BUCKET, Key=f"datasets/{dataset_id}/images/{name}", Body=body
        )
    return dataset_id


def _run(tmp_path: Path, env: dict[str, str], args: list[str], prefix: tuple[str, ...] = ()) -> str:
    script = tmp_path / "trainer.py"
    script.write_text(TRAINER)
    work = tmp_path / f"work-{uuid.uuid4().hex[:6]}"
    work.mkdir()
    full = {
        **{k: v for k, v in os.environ.items() if k not in ("CONFIG", "CALLBACK_TOKEN")},
        **env,
        "JOB_ID": "9",
        "CALLBACK_URL": (work / "callbacks.jsonl").as_uri(),
        "WORK_DIR": str(work),
    }
    done = subprocess.run(
        [*prefix, sys.executable, str(script), *args],
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 3, f"{done.stdout}\n{done.stderr[-3000:]}"
    message = done.stdout.strip()
    assert "cannot reach S3" not in message, message
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    return message


@pytest.mark.parametrize("method", METHODS)
def test_a_file_name_too_long_is_a_local_error(
    tmp_path: Path, seaweed: SeaweedServer, storage_env: StorageEnv, method: str
) -> None:
    dataset_id = _put(seaweed, {"a.jpg": b"x" * 100})
    message = _run(tmp_path, storage_env(), [method, dataset_id, str(tmp_path / LONG_NAME)])
    assert "File name too long" in message and "local" in message, message


def test_a_checkpoint_file_name_too_long_is_a_local_error(
    tmp_path: Path, seaweed: SeaweedServer, storage_env: StorageEnv
) -> None:
    env = storage_env()
    bucket = env.get("INTERNAL_BUCKET_CHECKPOINTS") or "training-checkpoints"
    seaweed.client().put_object(Bucket=bucket, Key="checkpoints/9/best.pt", Body=b"w" * 100)
    uri = f"s3://{bucket}/checkpoints/9/best.pt"
    message = _run(tmp_path, env, ["download_checkpoint", uri, str(tmp_path / LONG_NAME)])
    assert "File name too long" in message and "local" in message, message


@pytest.mark.parametrize("method", METHODS)
def test_a_path_too_deep_is_a_local_error(
    tmp_path: Path, seaweed: SeaweedServer, storage_env: StorageEnv, method: str
) -> None:
    dataset_id = _put(seaweed, {DEEP_KEY: b"x" * 100})
    dest = tmp_path.joinpath(*["p" * 250] * 14)  # ~3,600 characters, then the key's 800
    dest.mkdir(parents=True)
    message = _run(tmp_path, storage_env(), [method, dataset_id, str(dest / "ds")])
    assert "File name too long" in message and "local" in message, message


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 1 MiB tmpfs."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True
    )
    assert done.returncode == 0, f"cannot mount a tmpfs (run as root): {done.stderr!r}"
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.parametrize("method", METHODS)
def test_a_full_disk_is_a_resource_error(
    tmp_path: Path, seaweed: SeaweedServer, storage_env: StorageEnv, tiny_disk: Path, method: str
) -> None:
    dataset_id = _put(seaweed, {f"big{i}.jpg": os.urandom(300_000) for i in range(6)})
    message = _run(tmp_path, storage_env(), [method, dataset_id, str(tiny_disk / "ds")])
    assert message.startswith("ResourceError"), message
    assert "disk is full" in message or "free" in message, message
    assert not any(tiny_disk.iterdir())  # nothing half-downloaded left behind


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs setpriv (util-linux)")
@pytest.mark.parametrize("method", METHODS)
def test_a_folder_without_write_permission_is_a_local_error(
    tmp_path: Path, seaweed: SeaweedServer, storage_env: StorageEnv, method: str
) -> None:
    dataset_id = _put(seaweed, {"a.jpg": b"x" * 100})
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    # Root ignores permissions; without CAP_DAC_OVERRIDE it is held to them like anyone.
    drop = ("setpriv", "--inh-caps=-dac_override", "--bounding-set=-dac_override")
    message = _run(tmp_path, storage_env(), [method, dataset_id, str(locked / "ds")], prefix=drop)
    assert "Permission denied" in message and str(locked) in message, message
