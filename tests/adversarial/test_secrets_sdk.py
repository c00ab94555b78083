"""Planted secrets never leave a trainer process in clear: stderr (run()'s traceback, botocore
debug logs), the outbox, a file:// sink, the backend's record. Everything is grepped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from backend_process import Backend
from s3_support import DATASETS_BUCKET, StorageEnv

from trainer_tools.services.seaweed import SeaweedServer

TOKEN = "tok-9f8e7d6c5b4a39281706"
PASSWORD = "url-pass-5e4d3c2b1a"
DATASET_ID = "secrets_ds_1"

TRAINER = r"""
import logging, os, sys
from trainer_sdk import run

# What a user debugging S3 does: every logger at DEBUG on stderr (botocore shows its headers).
logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
TOKEN = os.environ.get("CALLBACK_TOKEN", "")
ACCESS = os.environ["EXTERNAL_STORAGE_ACCESS_KEY"]
SECRET = os.environ["EXTERNAL_STORAGE_SECRET_KEY"]
URL = "http://trainer:" + os.environ["PLANTED_PASSWORD"] + "@example.invalid/data"


def main(sdk):
    sdk.report_started("training")
    sdk.download_dataset(os.environ["DATASET_ID"], os.path.join(os.environ["TMP_DIR"], "ds"))
    env = {k: v for k, v in os.environ.items() if k != "PLANTED_PASSWORD"}
    sdk.log_info("the environment", data={"env": env, "source": URL})
    # The trainer's own logger, forwarded to the backend by the SDK's handler (not to stderr).
    forwarded = logging.getLogger("trainer")
    forwarded.propagate = False
    forwarded.addHandler(sdk.logging_handler())
    forwarded.info("keys %s %s %s", ACCESS, SECRET, TOKEN)
    sdk.report_progress(
        epoch=1,
        total_epochs=2,
        metrics={"loss": 0.5},
        extra_data={"token": TOKEN, "nested": [{"secret": SECRET}], SECRET: URL},
    )
    sdk.flush_logs(30)
    if os.environ.get("PLANTED_END") == "complete":
        sdk.report_completed(
            final_metrics={"loss": 0.25}, extra_data={"token": TOKEN, "source": URL, "key": SECRET}
        )
        return
    raise RuntimeError(f"boom: token={TOKEN} access={ACCESS} secret={SECRET} url={URL}")


run(main)
"""


@pytest.fixture(scope="module")
def dataset(seaweed: SeaweedServer) -> str:
    client = seaweed.client()
    for name, body in {
        "annotations.json": b'{"images": [], "annotations": [], "categories": []}',
        "images/a.jpg": b"\xff\xd8 not really a jpeg",
    }.items():
        client.put_object(Bucket=DATASETS_BUCKET, Key=f"datasets/{DATASET_ID}/{name}", Body=body)
    return DATASET_ID


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[Backend]:
    server = Backend(tmp_path, "--token", TOKEN)
    yield server
    server.stop()


def _run_trainer(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "train.py"
    script.write_text(TRAINER)
    for folder in ("tmp", "work"):
        (tmp_path / folder).mkdir(exist_ok=True)
    full = {
        **{k: v for k, v in os.environ.items() if k not in ("CONFIG", "CALLBACK_TOKEN")},
        **env,
        "JOB_ID": "31",
        "DATASET_ID": DATASET_ID,
        "TMP_DIR": str(tmp_path / "tmp"),
        "WORK_DIR": str(tmp_path / "work"),
        "PLANTED_PASSWORD": PASSWORD,
        "CALLBACK_MAX_RETRIES": "1",
    }
    return subprocess.run(
        [sys.executable, str(script)],
        env=full,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _secrets(env: dict[str, str]) -> dict[str, str]:
    return {
        "token": TOKEN,
        "access key": env["EXTERNAL_STORAGE_ACCESS_KEY"],
        "secret key": env["EXTERNAL_STORAGE_SECRET_KEY"],
        "password in a URL": PASSWORD,
    }


def _assert_clean(where: str, data: bytes, secrets: dict[str, str]) -> None:
    for name, value in secrets.items():
        at = data.find(value.encode())
        context = data[max(0, at - 300) : at + 100].decode("utf-8", "replace")
        assert at < 0, f"the {name} appears in {where}: ...{context}..."


def _files(folder: Path) -> Iterator[Path]:
    return (p for p in folder.rglob("*") if p.is_file())


def test_secrets_are_masked_in_stderr_outbox_and_backend(
    tmp_path: Path, backend: Backend, storage_env: StorageEnv, dataset: str
) -> None:
    env = storage_env()
    done = _run_trainer(tmp_path, {**env, "CALLBACK_URL": backend.url, "CALLBACK_TOKEN": TOKEN})
    assert done.returncode == 1, done.stderr[-3000:]
    secrets = _secrets(env)
    # The outputs carry what they should, masked.
    assert "boom: token=***" in done.stderr
    assert "botocore" in done.stderr and "Credential=***" in done.stderr, done.stderr[-3000:]
    _assert_clean("the trainer's stderr", done.stderr.encode(), secrets)
    _assert_clean("the trainer's stdout", done.stdout.encode(), secrets)
    for path in _files(tmp_path / "work"):
        _assert_clean(f"the outbox file {path.name}", path.read_bytes(), secrets)
    backend.stop()
    for path in backend.log.parent.glob("record.sqlite3*"):
        _assert_clean(f"the backend's record {path.name}", path.read_bytes(), secrets)
    _assert_clean("the backend's log", backend.log.read_bytes(), secrets)
    record = b"".join(p.read_bytes() for p in backend.log.parent.glob("record.sqlite3*"))
    assert b"boom: token=***" in record  # the failure arrived, masked


@pytest.mark.parametrize("end", ["fail", "complete"])
def test_secrets_are_masked_in_a_file_sink(
    tmp_path: Path, storage_env: StorageEnv, dataset: str, end: str
) -> None:
    env = storage_env()
    sink = tmp_path / "callbacks.jsonl"
    done = _run_trainer(
        tmp_path,
        {**env, "CALLBACK_URL": sink.as_uri(), "CALLBACK_TOKEN": TOKEN, "PLANTED_END": end},
    )
    assert done.returncode == (1 if end == "fail" else 0), done.stderr[-3000:]
    secrets = _secrets(env)
    lines = [json.loads(line) for line in sink.read_text().splitlines()]
    assert len(lines) >= 4, lines
    _assert_clean("the file sink", sink.read_bytes(), secrets)
    _assert_clean("the trainer's stderr", done.stderr.encode(), secrets)
    for path in _files(tmp_path / "work"):
        _assert_clean(f"the outbox file {path.name}", path.read_bytes(), secrets)
    progress = next(line for line in lines if "extra_data" in json.dumps(line))
    assert "***" in json.dumps(progress)
    if end == "complete":  # the completion arrived, its extra_data masked
        final = json.dumps(lines[-1])
        assert "0.25" in final and '"token": "***"' in final and '"key": "***"' in final, final
