"""Proof that nothing downstream restates the contract.

Copy `schemas/`, add an ErrorType member and a required field to the progress callback,
regenerate into a temporary folder, and show that the generated enum, the validators, the OpenAPI
document and the linter (which reads the generated tables) all change with it.
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

PROBE = textwrap.dedent(
    """
    import json
    from trainer_contract.error_type import ErrorType
    from trainer_contract.openapi import load
    from trainer_contract.validators import validator

    example = {"job_id": 1, "status": "running", "current_epoch": 1, "total_epochs": 2}
    doc = load()
    print(json.dumps({
        "members": [m.name for m in ErrorType],
        "progress_errors": [e.path for e in validator("callbacks/progress").errors(example)],
        "failed_accepts_quota": validator("callbacks/failed").is_valid({
            "job_id": 1, "status": "failed", "total_epochs_completed": 0,
            "error_message": "[QuotaError] over quota", "error_type": "QuotaError", "exit_code": 1,
        }),
        "openapi_required": doc["components"]["schemas"]["TrainingProgress"]["required"],
    }))
    """
)

TRAINER = textwrap.dedent(
    """
    import sys
    import traceback

    from trainer_sdk import CallbackDeliveryError, ErrorType, TrainerSDK


    def main() -> int:
        sdk = TrainerSDK()
        try:
            epochs = sdk.get_basic_config()["epochs"]
            sdk.report_started("training", total_epochs=epochs)
            for epoch in range(1, epochs + 1):
                sdk.report_progress(epoch, epochs, {"loss": 1.0 / epoch})
            sdk.report_completed({"loss": 0.1}, {}, epochs)
            return 0
        except Exception as exc:
            sdk.report_failed(ErrorType.QUOTA_ERROR, str(exc), traceback.format_exc())
            return 1
        finally:
            sdk.close()


    if __name__ == "__main__":
        try:
            sys.exit(main())
        except CallbackDeliveryError:
            sys.exit(2)
    """
)


def _edit_schemas(folder: Path) -> None:
    error_type_path = folder / "error-type.json"
    error_type = json.loads(error_type_path.read_text(encoding="utf-8"))
    error_type["enum"].append("QuotaError")
    error_type["x-enum-members"].append(
        {"name": "QUOTA_ERROR", "value": "QuotaError", "description": "Over quota."}
    )
    error_type_path.write_text(json.dumps(error_type, indent=2), encoding="utf-8")
    progress_path = folder / "callbacks" / "progress.json"
    progress = json.loads(progress_path.read_text(encoding="utf-8"))
    progress["properties"]["node_name"] = {"type": "string", "description": "Node of the pod."}
    progress["required"].append("node_name")
    for example in progress["examples"]:
        example["node_name"] = "node-1"
    progress_path.write_text(json.dumps(progress, indent=2), encoding="utf-8")


def _run(args: list[str], generated: Path | None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if generated is not None:
        env["PYTHONPATH"] = str(generated) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run(args, capture_output=True, text=True, env=env, cwd=ROOT, check=False)


def _probe(generated: Path | None) -> dict[str, Any]:
    done = _run([sys.executable, "-c", PROBE], generated)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _lint_codes(path: Path, generated: Path | None) -> list[str]:
    done = _run(
        [sys.executable, "-m", "trainer_tools.trainer_lint.cli", "--format", "json", str(path)],
        generated,
    )
    assert done.returncode in (0, 1), done.stderr
    report = json.loads(done.stdout)
    findings = report["findings"] if isinstance(report, dict) else report
    return sorted(str(f["code"]) for f in findings)


@pytest.fixture(scope="module")
def edited(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("edited")
    shutil.copytree(ROOT / "schemas", base / "schemas")
    _edit_schemas(base / "schemas")
    out = base / "generated"
    done = _run(
        [
            sys.executable,
            "-m",
            "trainer_tools.codegen",
            "--schemas",
            str(base / "schemas"),
            "--out",
            str(out),
        ],
        None,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def test_enum_validators_and_openapi_follow_the_schema(edited: Path) -> None:
    before, after = _probe(None), _probe(edited)
    assert "QUOTA_ERROR" not in before["members"]
    assert "QUOTA_ERROR" in after["members"]
    assert before["progress_errors"] == []
    assert after["progress_errors"] == ["$.node_name"]
    assert not before["failed_accepts_quota"]
    assert after["failed_accepts_quota"]
    assert "node_name" not in before["openapi_required"]
    assert "node_name" in after["openapi_required"]


def test_linter_follows_the_schema(edited: Path, tmp_path: Path) -> None:
    from trainer_contract.lint_rules import LINT_RULES

    unknown = next(r.code for r in LINT_RULES.values() if r.name == "unknown-error-type")
    trainer = tmp_path / "train.py"
    trainer.write_text(TRAINER, encoding="utf-8")
    assert unknown in _lint_codes(trainer, None)
    assert unknown not in _lint_codes(trainer, edited)


def test_generated_files_that_change(edited: Path) -> None:
    changed = []
    for path in sorted(edited.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            rel = path.relative_to(edited)
            committed = ROOT / "generated" / rel
            if not committed.exists() or committed.read_bytes() != path.read_bytes():
                changed.append(rel.as_posix())
    for expected in (
        "trainer_contract/error_type.py",
        "trainer_contract/_schema_data.py",
        "trainer_contract/openapi.json",
        "trainer_contract/models/callbacks/progress.py",
        "trainer_contract/models/error_type.py",
    ):
        assert expected in changed
