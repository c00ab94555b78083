"""The SDK reads its contract facts from the generated package, never from its own code.

Copy `schemas/`, change an endpoint path, a config default, an ErrorType member and the delivery
mode of `report_progress`, regenerate into a temporary folder, and run the unchanged SDK on it:
every change shows up in what the SDK does.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]

TRAINER = textwrap.dedent(
    """
    import json, sys
    from trainer_sdk import CallbackDeliveryError, TrainerSDK

    mode = sys.argv[1]
    sdk = TrainerSDK()
    if mode == "file":
        sdk.report_started("training")
        sdk.report_progress(1, sdk.get_basic_config()["epochs"], {"loss": 0.5})
        sdk.report_failed("QUOTA_ERROR", "over quota")
        sdk.close()
    else:  # an unreachable backend: does report_progress wait for it?
        try:
            sdk.report_progress(1, 2, {"loss": 0.5})
            print("returned at once")
        except CallbackDeliveryError:
            print("waited and failed")
        sdk.abandon()
    """
)


def _edit(schemas: Path) -> None:
    def rewrite(name: str, change: object) -> None:
        path = schemas / name
        document = json.loads(path.read_text(encoding="utf-8"))
        change(document)  # type: ignore[operator]
        path.write_text(json.dumps(document, indent=2), encoding="utf-8")

    def endpoint(doc: dict) -> None:  # type: ignore[type-arg]
        for entry in doc["x-endpoints"]:
            if entry["name"] == "training_progress":
                entry["path"] = "/v2/jobs/{job_id}/progress"

    def epochs(doc: dict) -> None:  # type: ignore[type-arg]
        doc["properties"]["epochs"]["default"] = 7

    def error_type(doc: dict) -> None:  # type: ignore[type-arg]
        doc["enum"].append("QuotaError")
        doc["x-enum-members"].append(
            {"name": "QUOTA_ERROR", "value": "QuotaError", "description": "Over quota."}
        )

    def delivery(doc: dict) -> None:  # type: ignore[type-arg]
        doc["$defs"]["report_progress"]["x-delivery"] = "sync"

    rewrite("callbacks/api.json", endpoint)
    rewrite("config.json", epochs)
    rewrite("error-type.json", error_type)
    rewrite("sdk-api.json", delivery)


@pytest.fixture(scope="module")
def edited(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("contract")
    shutil.copytree(ROOT / "schemas", base / "schemas")
    _edit(base / "schemas")
    out = base / "generated"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "trainer_tools.codegen",
            "--schemas",
            str(base / "schemas"),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def _trainer(
    tmp_path: Path, generated: Path | None, mode: str, url: str
) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "train.py"
    script.write_text(TRAINER, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CALLBACK_", "JOB_"))}
    env.update(
        JOB_ID="5",
        CALLBACK_URL=url,
        WORK_DIR=str(tmp_path / mode),
        CALLBACK_MAX_RETRIES="0",
        CALLBACK_RETRY_DELAY="0.01",
    )
    env.pop("EPOCHS", None)
    if generated is not None:
        env["PYTHONPATH"] = str(generated) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run(
        [sys.executable, str(script), mode],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )


def _sent(sink: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in sink.read_text().splitlines()]


def test_paths_defaults_and_error_types_follow_the_schemas(edited: Path, tmp_path: Path) -> None:
    before_sink, after_sink = tmp_path / "before.jsonl", tmp_path / "after.jsonl"
    before = _trainer(tmp_path, None, "file", before_sink.as_uri())
    after = _trainer(tmp_path, edited, "file", after_sink.as_uri())

    # The committed contract has no QUOTA_ERROR: the SDK refuses it and nothing is sent for it.
    assert before.returncode != 0 and "QUOTA_ERROR" in before.stderr
    started, progress = _sent(before_sink)
    assert started["path"] == "/training/jobs/5/callback/progress"
    assert started["body"]["total_epochs"] == 100

    assert after.returncode == 0, after.stderr
    started, progress, failed = _sent(after_sink)
    assert started["path"] == progress["path"] == "/v2/jobs/5/progress"
    assert started["body"]["total_epochs"] == 7  # the new config default
    assert failed["body"]["error_type"] == "QuotaError"


def test_delivery_mode_comes_from_the_contract(edited: Path, tmp_path: Path) -> None:
    dead = "http://127.0.0.1:9/api/v1"  # the discard port: nothing listens there
    assert _trainer(tmp_path, None, "dead", dead).stdout.strip() == "returned at once"
    assert _trainer(tmp_path, edited, "dead", dead).stdout.strip() == "waited and failed"
