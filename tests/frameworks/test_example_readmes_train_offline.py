"""The "Run it (offline)" block of each example's README, run as written with the real frameworks
in a network namespace with only loopback: every `trainer-sdk dry-run` in it trains for real and
ends in PASS. (Each dry-run line gets `--json` so that the timeline can be inspected; `/tmp/` is
the test's own folder; `$HOME` is an empty folder that must stay empty.)

Ultralytics: detection, segmentation (with degenerate polygons), pose and classification; timm:
classification. Each trains 2 epochs on the CPU at 32-64 pixels.
"""

from __future__ import annotations

import json
import math
import os
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from framework_env import ROOT, run_offline

pytestmark = pytest.mark.frameworks

BLOCK = re.compile(r"## Run it \(offline\).*?```bash\n(.*?)```", re.S)


def _commands(readme: Path) -> list[list[str]]:
    found = BLOCK.search(readme.read_text())
    assert found, f"{readme}: no bash block under '## Run it (offline)'"
    text = found.group(1).replace("\\\n", " ")
    return [shlex.split(line) for line in text.splitlines() if line.strip()]


def _env(bin_dir: Path, home: Path) -> dict[str, str]:
    home.mkdir()
    return {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(home),
        "LANG": "C.UTF-8",
    }


def _bodies(result: dict[str, Any], endpoint: str) -> list[dict[str, Any]]:
    return [e["body"] for e in result["timeline"] if e["endpoint"] == endpoint]


def _check_run(result: dict[str, Any], command: list[str]) -> None:
    """What every example's dry-run must show, beyond PASS."""
    checks = {c["name"]: c for c in result["checks"]}
    assert result["ok"] is True and result["exit_code"] == 0, (command, checks)
    assert all(e["accepted"] for e in result["timeline"]), [
        (e["endpoint"], e["status_code"], e["response"])
        for e in result["timeline"]
        if not e["accepted"]
    ]
    progress = _bodies(result, "training_progress")
    epochs = [p["current_epoch"] for p in progress]
    assert epochs == [0, 1, 2], epochs  # no report for Ultralytics' final evaluation
    assert all(p["current_epoch"] <= p["total_epochs"] for p in progress)
    for body in progress[1:]:
        metrics = body["metrics"]
        assert math.isfinite(metrics["loss"]) and "val_loss" in metrics["extra_metrics"]
    (validation,) = _bodies(result, "validation_results")
    assert 1 <= validation["epoch"] <= 2
    (completion,) = _bodies(result, "training_completion")
    assert completion["status"] == "completed"
    for log in _bodies(result, "training_logs"):
        message = log["message"]
        assert message.strip() and "\x1b" not in message, repr(message)


def _run_block(
    readme: Path, bin_dir: Path, offline: list[str], tmp_path: Path
) -> list[dict[str, Any]]:
    env = _env(bin_dir, tmp_path / "home")
    results = []
    for command in _commands(readme):
        command = [part.replace("/tmp/", f"{tmp_path}/") for part in command]
        is_dry_run = command[:2] == ["trainer-sdk", "dry-run"]
        if is_dry_run:
            command = [*command, "--json", "--timeout", "240"]
        done = run_offline(offline, command, env, timeout=300)
        assert done.returncode == 0, (command, done.stdout[-2000:], done.stderr[-4000:])
        if is_dry_run:
            result = json.loads(done.stdout)
            _check_run(result, command)
            results.append(result)
    assert list((tmp_path / "home").iterdir()) == [], "nothing may be written to $HOME"
    return results


@pytest.mark.timeout(1200)
def test_the_ultralytics_readme_trains_every_task_offline(
    frameworks_bin: Path, offline_prefix: list[str], tmp_path: Path
) -> None:
    results = _run_block(
        ROOT / "examples" / "ultralytics" / "README.md", frameworks_bin, offline_prefix, tmp_path
    )
    by_task = {_bodies(r, "validation_results")[0]["task_type"]: r for r in results}
    assert sorted(by_task) == ["classification", "detection", "pose", "segmentation"]
    losses = {
        "detection": {"box_loss", "cls_loss", "dfl_loss"},
        "segmentation": {"box_loss", "seg_loss", "cls_loss", "dfl_loss"},
        "pose": {"box_loss", "pose_loss", "kobj_loss", "cls_loss", "dfl_loss"},
        "classification": set(),
    }
    for task, result in by_task.items():
        progress = _bodies(result, "training_progress")[-1]["metrics"]["extra_metrics"]
        # Training losses under Ultralytics' names, validation losses as val_<name>.
        assert losses[task] <= set(progress), (task, sorted(progress))
        assert {f"val_{name}" for name in losses[task]} <= set(progress), (task, sorted(progress))
        assert progress["loss"] == pytest.approx(
            sum(progress[name] for name in losses[task]) if losses[task] else progress["loss"]
        )
        validation = _bodies(result, "validation_results")[0]
        assert validation["primary_metric_name"] in ("mAP50-95", "accuracy_top1")
    # The segmentation dataset's degenerate polygons were dropped, never handed to Ultralytics.
    (conversion,) = [
        log
        for log in _bodies(by_task["segmentation"], "training_logs")
        if isinstance(log.get("data"), dict) and "objects_dropped" in log["data"]
    ]
    assert conversion["data"]["objects_dropped"] == {"zero_area": 80}


@pytest.mark.timeout(600)
def test_the_timm_readme_trains_offline(
    frameworks_bin: Path, offline_prefix: list[str], tmp_path: Path
) -> None:
    (result,) = _run_block(
        ROOT / "examples" / "timm" / "README.md", frameworks_bin, offline_prefix, tmp_path
    )
    validation = _bodies(result, "validation_results")[0]
    assert validation["task_type"] == "classification"
    assert len(validation["confusion_matrix"]) == 2
