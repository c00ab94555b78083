"""The environment the platform's Kubernetes manager gives a Job, through `TrainerSDK()` in a
subprocess that reports to the reference backend on loopback (env.json `x-job-kinds`, `x-derive`,
config.json's CONFIG keys)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from trainer_contract.env import ENV_DERIVATIONS, JOB_KINDS
from trainer_tools.dev_backend import Store, create_app
from trainer_tools.dry_run.services import AsgiServer

# What the manager's start_training writes for a job created through the platform's API: the
# dataset path is the bare dataset id, DATASET_ID is what its regex finds in it (nothing).
MANAGER_CONFIG = {
    "epochs": 3,
    "batch": 16,
    "learning_rate": 0.01,
    "imgsz": 640,
    "device": "0",
    "advanced_config": {},
    "primary_metric": "mAP50",
    "primary_metric_mode": "max",
}

SCRIPT = """
import json, sys
from trainer_sdk import TrainerSDK
sdk = TrainerSDK()
out = {
    "job_id": sdk.job_id,
    "dataset_id": sdk.dataset_id,
    "bucket": sdk.settings["EXTERNAL_BUCKET_DATASETS"],
    "basic": sdk.get_basic_config(),
    "advanced": sdk.get_advanced_config(),
    "task": sdk.task_type,
    "argv": sys.argv[1:],
}
operation = sys.argv[sys.argv.index("--operation") + 1] if "--operation" in sys.argv else "training"
if operation == "training":
    sdk.report_started("training")
    sdk.report_progress(1, 3, {"mAP50-95": 0.41, "mAP50": 0.6})
    sdk.log_event("checkpoint", "saved")
    sdk.report_completed({"mAP50-95": 0.5}, {"best": "s3://training-checkpoints/checkpoints/1/best.pt"}, 3)
elif operation == "inference":
    sdk.report_started("inference")
    sdk.log("predicting")
    sdk.report_inference_completed(1, 20.0, [{"image_path": "s3://b/a.jpg", "predictions": []}])
else:
    sdk.log("evaluating")
    sdk.report_progress(1, 1, {"loss": 0.1})
sdk.close()
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def backend() -> Iterator[tuple[AsgiServer, Store]]:
    store = Store(":memory:")
    with AsgiServer(create_app(store)) as server:
        yield server, store
    store.close()


def run_job(env: dict[str, str], tmp_path: Path, *args: str) -> dict[str, object]:
    """Start the script as the platform starts a trainer (`--log-level INFO`), exactly `env`."""
    full = {**env, "WORK_DIR": str(tmp_path / "work"), "TMP_DIR": str(tmp_path / "tmp")}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, "--log-level", "INFO", *args],
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def manager_env(url: str, job_id: int, dataset: str) -> dict[str, str]:
    return {
        "JOB_ID": str(job_id),
        "CALLBACK_URL": url,
        "MODEL_NAME": "yolo11n",
        "TASK_TYPE": "object_detection",
        "FRAMEWORK": "ultralytics",
        "DATASET_ID": "",
        "DATASET_S3_URI": dataset,
        "EPOCHS": "3",
        "BATCH_SIZE": "16",
        "LEARNING_RATE": "0.01",
        "IMGSZ": "640",
        "DEVICE": "0",
        "CONFIG": json.dumps(MANAGER_CONFIG),
    }


def test_a_training_job_with_a_bare_dataset_id_runs(
    backend: tuple[AsgiServer, Store], tmp_path: Path
) -> None:
    server, store = backend
    out = run_job(manager_env(server.url, 501, "ds_c75023ca"), tmp_path)
    assert out["dataset_id"] == "ds_c75023ca"  # derived: DATASET_ID was empty
    assert out["bucket"] == "training-datasets"  # the default: a bare id names no bucket
    assert out["basic"] == {
        "imgsz": 640,
        "epochs": 3,
        "batch": 16,
        "lr0": 0.01,
        "optimizer": "auto",
        "augment": True,
        "device": "0",
        "workers": 8,
        "patience": 50,
    }
    assert out["advanced"] == {} and out["task"] == "detection"
    entries = store.timeline(501)
    assert [e.status_code for e in entries] == [200] * len(entries) and len(entries) == 4
    progress = next(e.body for e in entries if e.body.get("current_epoch") == 1)
    assert progress["metrics"]["accuracy"] == 0.41  # from mAP50-95, as the platform's SDK does
    completion = entries[-1].body
    assert completion["final_metrics"]["accuracy"] == 0.5
    assert next(e.body for e in entries if "event_type" in e.body)["event_type"] == "checkpoint"


def test_an_s3_dataset_uri_gives_its_bucket_and_id(
    backend: tuple[AsgiServer, Store], tmp_path: Path
) -> None:
    server, _ = backend
    env = manager_env(server.url, 502, "s3://other-bucket/datasets/ds_abc/")
    env["EXTERNAL_BUCKET_DATASETS"] = "training-datasets"  # the backend's own value
    out = run_job(env, tmp_path)
    assert out["dataset_id"] == "ds_abc" and out["bucket"] == "other-bucket"
    # A DATASET_ID that is set wins over the derived one (`overrides: false` in env.json).
    out = run_job({**env, "DATASET_ID": "ds_given", "JOB_ID": "507"}, tmp_path)
    assert out["dataset_id"] == "ds_given"
    assert ENV_DERIVATIONS["DATASET_S3_URI"].groups["dataset_id"] == ("DATASET_ID", False)


def test_an_inference_job_without_job_id_reports_and_logs_to_its_training_job(
    backend: tuple[AsgiServer, Store], tmp_path: Path
) -> None:
    server, store = backend
    env = {
        "INFERENCE_JOB_ID": "503",
        "TRAINING_JOB_ID": "504",
        "CHECKPOINT_S3_URI": "s3://training-checkpoints/checkpoints/504/best.pt",
        "IMAGES_S3_URI": "s3://training-datasets/inference/503/",
        "CALLBACK_URL": server.url,
        "CONFIG": "{}",
    }
    out = run_job(env, tmp_path, "--operation", "inference")
    assert out["job_id"] == 503
    paths = [e.path for e in store.timeline(503)]
    assert paths == [
        "/test_inference/inference/jobs/503/callback/started",
        "/test_inference/inference/jobs/503/callback/completion",
    ]
    logs = store.timeline(504)
    assert [e.path for e in logs] == ["/training/jobs/504/callback/logs"]
    assert logs[0].body["message"] == "predicting" and logs[0].status_code == 200


def test_an_evaluation_job_sends_only_its_log_lines(
    backend: tuple[AsgiServer, Store], tmp_path: Path
) -> None:
    server, store = backend
    env = {
        "TEST_RUN_ID": "505",
        "TRAINING_JOB_ID": "506",
        "CHECKPOINT_S3_URI": "s3://training-checkpoints/checkpoints/506/best.pt",
        "DATASET_S3_URI": "ds_eval",
        "CALLBACK_URL": server.url,
        "CONFIG": "{}",
    }
    out = run_job(env, tmp_path, "--operation", "evaluation")
    assert out["job_id"] == 505 and out["dataset_id"] == "ds_eval"
    assert store.timeline(505) == []  # the callback API has no evaluation endpoints
    assert [e.body["message"] for e in store.timeline(506)] == ["evaluating"]
    kind = next(k for k in JOB_KINDS if k.variable == "TEST_RUN_ID")
    assert not kind.callbacks and kind.logs_job == "TRAINING_JOB_ID"


def test_without_any_job_id_the_error_names_every_choice(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", "from trainer_sdk import TrainerSDK; TrainerSDK()"],
        env={"CALLBACK_URL": "http://127.0.0.1:9", "WORK_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    for kind in JOB_KINDS:
        assert kind.variable in done.stderr
