"""The dry-run's parts on their own: verdict rules, the trainer's environment, the dataset upload
plan, the timeline table, and the shipped demo dataset."""

from __future__ import annotations

import copy
import filecmp
import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from trainer_contract.callbacks import ENDPOINTS, Endpoint
from trainer_contract.env import ENV_VARS, SECRET_ENV_VARS
from trainer_contract.lint_rules import LIFECYCLE_METHODS, TRAINING_OPERATION
from trainer_contract.openapi import load as load_openapi
from trainer_contract.sdk_api import SDK_METHODS
from trainer_contract.validators import validator
from trainer_tools.contract_check.bodies import example_bodies
from trainer_tools.contract_check.scenarios import Prober
from trainer_tools.dev_backend.roles import with_epoch
from trainer_tools.dev_backend.store import TimelineEntry
from trainer_tools.dry_run.dataset_upload import DatasetError, find_dataset
from trainer_tools.dry_run.environment import DryRunSettings, build_env, describe_env, var
from trainer_tools.dry_run.timeline_table import format_timeline
from trainer_tools.dry_run.verdict import judge, reported_uris

ROOT = Path(__file__).resolve().parents[2]
DATASET = ROOT / "examples" / "data"
DOCUMENT = load_openapi()
BUCKET = "ckpt"


def schema_of(method: str) -> str:
    return SDK_METHODS[method].sends[0]


def endpoint_of(schema: str) -> Endpoint:
    return next(
        e for e in ENDPOINTS.values() if schema in e.bodies and e.operation == TRAINING_OPERATION
    )


def example(schema: str) -> dict[str, Any]:
    endpoint = endpoint_of(schema)
    body = next(x.body for x in example_bodies(DOCUMENT, endpoint) if x.schema == schema)
    return dict(Prober.for_job(endpoint, copy.deepcopy(body), 1))


PROGRESS = schema_of(LIFECYCLE_METHODS.progress)
COMPLETED = schema_of(LIFECYCLE_METHODS.completed)
FAILED = schema_of(LIFECYCLE_METHODS.failed)


def entry(seq: int, schema: str, body: Any, status: int = 200, **response: Any) -> TimelineEntry:
    return TimelineEntry(
        seq=seq,
        job_id=1,
        endpoint=endpoint_of(schema).name,
        schema=schema,
        method="POST",
        path="/",
        idempotency_key=f"k{seq}",
        received_at="2026-01-01T00:00:00.000Z",
        received_ns=seq * 10**8,
        body=body,
        status_code=status,
        response=response or {"success": True, "message": "ok"},
        replays=0,
    )


def progress(seq: int, epoch: int) -> TimelineEntry:
    return entry(seq, PROGRESS, with_epoch(example(PROGRESS), epoch))


def completed(seq: int, **fields: Any) -> TimelineEntry:
    body = example(COMPLETED)
    body.update(fields)
    return entry(seq, COMPLETED, body)


def good_run() -> list[TimelineEntry]:
    return [progress(1, 0), progress(2, 1), completed(3)]


def no_checkpoint_run() -> list[TimelineEntry]:
    """A good run whose completion reports no checkpoint (nothing to look up in S3)."""
    final = completed(3, checkpoints=None)
    final.body.pop("best_checkpoint_path", None)
    final.body.pop("last_checkpoint_path", None)
    return [progress(1, 0), progress(2, 1), final]


def failing(verdict: Any) -> set[str]:
    return {c.name for c in verdict.checks if not c.ok}


# ---------------------------------------------------------------------------------- verdict


def test_a_clean_run_passes_every_check() -> None:
    entries = good_run()
    uris = {u.value for u in reported_uris(entries)}
    assert uris  # the contract's completion example reports its checkpoints
    # Judge with the example's own bucket, every reported object present.
    bucket = next(iter(uris)).removeprefix("s3://").split("/")[0]
    verdict = judge(1, entries, 0, dict.fromkeys(uris, True), bucket)
    assert verdict.ok, verdict.format()
    assert verdict.to_json()["ok"] is True
    assert [c["name"] for c in verdict.to_json()["checks"]] == [c.name for c in verdict.checks]
    # The same run with one object missing fails that check only.
    missing = judge(1, entries, 0, dict.fromkeys(uris, False), bucket)
    assert failing(missing) == {"checkpoints_exist"}


def test_an_empty_timeline_fails_the_lifecycle_and_the_exit_code() -> None:
    verdict = judge(1, [], 0, {}, BUCKET)
    assert failing(verdict) == {"lifecycle_in_order", "exit_code_agrees", "training_succeeded"}
    assert "no callback" in verdict.check("lifecycle_in_order").summary


def test_progress_before_the_start_report_is_out_of_order() -> None:
    verdict = judge(1, [progress(1, 2), completed(2, checkpoints=None)], 0, {}, BUCKET)
    lifecycle = verdict.check("lifecycle_in_order")
    assert not lifecycle.ok
    assert f"call {LIFECYCLE_METHODS.started}() before the first epoch" in lifecycle.details[0]


def test_refused_callbacks_are_listed_with_the_backends_reason() -> None:
    refused = entry(4, PROGRESS, with_epoch(example(PROGRESS), 1), 409, detail="epoch went back")
    verdict = judge(1, [*good_run(), refused], 0, {}, BUCKET)
    assert (
        "#4 training_progress: refused (409): epoch went back"
        in verdict.check("lifecycle_in_order").details
    )


def test_the_exit_code_must_be_a_contract_code_and_match_the_final_callback() -> None:
    assert (
        "not a contract exit code"
        in judge(1, good_run(), 3, {}, BUCKET).check("exit_code_agrees").summary
    )
    mismatch = judge(1, good_run(), 2, {}, BUCKET).check("exit_code_agrees")
    assert mismatch.summary.startswith("exited 2 (CALLBACK_FAILURE) but the final callback #3")
    failure = [progress(1, 0), entry(2, FAILED, example(FAILED))]
    assert judge(1, failure, 1, {}, BUCKET).check("exit_code_agrees").ok


def test_a_reported_failure_is_never_a_pass() -> None:
    failure = example(FAILED)
    verdict = judge(1, [progress(1, 0), entry(2, FAILED, failure)], 1, {}, BUCKET)
    # The contract was kept (every other check passes) but the training failed: FAIL.
    assert failing(verdict) == {"training_succeeded"}
    assert not verdict.ok and verdict.format().startswith("verdict: FAIL")
    summary = verdict.check("training_succeeded").summary
    assert summary.startswith("the job reported a failure (#2: ")
    assert str(failure["error_message"]) in summary and "--expect-failure" in summary
    assert verdict.outcome == "failed" and verdict.to_json()["outcome"] == "failed"
    assert judge(1, good_run(), 0, {}, BUCKET).outcome == "completed"


def test_expect_failure_inverts_the_training_check_only() -> None:
    failure = [progress(1, 0), entry(2, FAILED, example(FAILED))]
    expected = judge(1, failure, 1, {}, BUCKET, expect_failure=True)
    assert expected.ok, expected.format()
    assert "failed as expected" in expected.check("training_succeeded").summary
    assert expected.to_json()["expect_failure"] is True
    # A success when a failure was expected is a FAIL; so is a failure exiting 0.
    surprise = judge(1, no_checkpoint_run(), 0, {}, BUCKET, expect_failure=True)
    assert failing(surprise) == {"training_succeeded"}
    assert "succeeded although --expect-failure" in surprise.check("training_succeeded").summary
    wrong_exit = judge(1, failure, 0, {}, BUCKET, expect_failure=True)
    assert failing(wrong_exit) == {"exit_code_agrees", "training_succeeded"}


def test_a_completion_with_a_non_zero_exit_is_a_failed_training() -> None:
    verdict = judge(1, good_run(), 1, {}, BUCKET)
    assert "training_succeeded" in failing(verdict)
    assert "and the trainer exited 1" in verdict.check("training_succeeded").summary


def test_refused_validation_results_fail_their_own_check() -> None:
    from trainer_tools.dry_run.verdict import VALIDATION_ENDPOINTS

    endpoint = next(iter(VALIDATION_ENDPOINTS))
    schema = ENDPOINTS[endpoint].bodies[0]
    body = example(schema)
    accepted = entry(3, schema, body)
    refused = entry(
        4,
        schema,
        {**body, "epoch": -1},
        422,
        errors=[{"path": "$.epoch", "message": "-1 is less than the minimum of 0"}],
    )
    run = [*no_checkpoint_run()[:2], accepted, no_checkpoint_run()[2]]
    ok = judge(1, run, 0, {}, BUCKET).check("validation_accepted")
    assert ok.ok and ok.summary.startswith("1 validation result(s) accepted (epochs ")
    bad = judge(1, [*run[:3], refused, run[3]], 0, {}, BUCKET).check("validation_accepted")
    assert not bad.ok and bad.summary.startswith("1 of 2 validation result(s) refused")
    assert bad.details == (f"#4 {endpoint}: 422 $.epoch: -1 is less than the minimum of 0",)
    none = judge(1, good_run(), 0, {}, BUCKET).check("validation_accepted")
    assert none.ok and none.summary == "no validation result reported"


def test_the_verdict_is_coloured_only_when_asked() -> None:
    verdict = judge(1, good_run(), 1, {}, BUCKET)
    plain = verdict.format()
    assert "\033[" not in plain
    painted = verdict.format(color=True)
    assert "verdict: \033[1;31mFAIL\033[0m" in painted
    assert "\033[1;32mPASS\033[0m  payloads_valid" in painted


def test_checkpoints_must_be_uploaded_s3_objects_in_the_checkpoint_bucket() -> None:
    local = completed(3, checkpoints={"best": "/workspace/best.pt"})
    local.body.pop("best_checkpoint_path", None)
    local.body.pop("last_checkpoint_path", None)
    check = judge(1, [progress(1, 0), local], 0, {}, BUCKET).check("checkpoints_exist")
    assert not check.ok
    assert "'/workspace/best.pt' is not an s3:// URI" in check.details[0]

    elsewhere = completed(3, checkpoints={"best": "s3://other/checkpoints/1/best.pt"})
    elsewhere.body.pop("best_checkpoint_path", None)
    elsewhere.body.pop("last_checkpoint_path", None)
    check = judge(1, [progress(1, 0), elsewhere], 0, {}, BUCKET).check("checkpoints_exist")
    assert "is not in the checkpoint bucket 'ckpt'" in check.details[0]

    present = f"s3://{BUCKET}/checkpoints/1/best.pt"
    fine = completed(3, checkpoints={"best": present}, best_checkpoint_path=present)
    fine.body.pop("last_checkpoint_path", None)
    check = judge(1, [progress(1, 0), fine], 0, {present: True}, BUCKET).check("checkpoints_exist")
    assert check.ok and present in check.summary


# ------------------------------------------------------------------------------ environment


def settings(tmp_path: Path) -> DryRunSettings:
    return DryRunSettings(
        job_id=5,
        callback_url="http://127.0.0.1:1",
        callback_token="token-value",
        s3_endpoint="http://127.0.0.1:2",
        access_key="access-value",
        secret_key="secret-value",
        datasets_bucket="d",
        checkpoints_bucket="c",
        dataset_id="ds",
        dataset_uri="s3://d/datasets/ds/",
        task_type="detection",
        version_hash="h",
        tmp_dir=tmp_path / "tmp",
        work_dir=tmp_path / "work",
        cache_dir=tmp_path / "cache",
        epochs=4,
    )


def test_the_trainer_gets_the_whole_contract_and_nothing_from_the_shell(tmp_path: Path) -> None:
    caller = {"PATH": "/bin", "HOME": "/home/u", var("EPOCHS"): "999", "AWS_PROFILE": "prod"}
    env = build_env(settings(tmp_path), {var("BATCH_SIZE"): "2"}, caller)
    defaults = {
        n for n, spec in ENV_VARS.items() if spec.default is not None and spec.config_key is None
    }
    assert defaults <= set(env)
    assert env[var("EPOCHS")] == "4"  # the dry-run's value, not the shell's
    assert env[var("BATCH_SIZE")] == "2"  # --env wins
    assert env[var("DEVICE")] == "cpu"
    assert env["PATH"] == "/bin" and "AWS_PROFILE" not in env
    assert env[var("CALLBACK_TOKEN")] == "token-value"
    # No made-up model name: the trainer's own default applies (`dry-run --model NAME` sets it).
    assert var("MODEL_NAME") not in env


def test_config_keys_are_left_to_config_unless_given(tmp_path: Path) -> None:
    """A variable behind a CONFIG key, set to its default, would override the user's CONFIG."""
    plain = settings(tmp_path)
    plain = DryRunSettings(**{**plain.__dict__, "epochs": None})
    env = build_env(plain, {var("CONFIG"): '{"batch": 8, "epochs": 2}'}, {})
    behind_config = {n for n, spec in ENV_VARS.items() if spec.config_key is not None}
    assert behind_config & set(env) == {var("DEVICE")}  # the dry-run always runs on the CPU
    from trainer_sdk.config import load_settings

    basic = load_settings(env).full()["basic"]
    assert (basic["batch"], basic["epochs"], basic["device"]) == (8, 2, "cpu")


def test_the_printed_environment_masks_every_secret(tmp_path: Path) -> None:
    text = " ".join(describe_env(build_env(settings(tmp_path), {}, {})))
    for secret in ("token-value", "access-value", "secret-value"):
        assert secret not in text
    assert all(f"{name}=***" in text for name in SECRET_ENV_VARS)


def test_a_variable_the_contract_lost_fails_loudly() -> None:
    with pytest.raises(KeyError, match="no variable 'NOT_A_CONTRACT_VAR'"):
        var("NOT_A_CONTRACT_VAR")


# ---------------------------------------------------------------------------------- dataset


def test_the_demo_dataset_is_found_with_its_id_task_and_files() -> None:
    found = find_dataset(DATASET)
    assert (found.dataset_id, found.task_type) == ("ds_demo_shapes", "detection")
    keys = [key for _, key in found.files]
    assert keys[:2] == ["annotations_detection.json", "metadata.json"]
    assert len([k for k in keys if k.startswith("images/")]) == 48
    assert "generate.py" not in keys
    assert found.version_hash == find_dataset(DATASET).version_hash


def test_an_annotation_file_can_be_given_instead_of_the_folder() -> None:
    found = find_dataset(DATASET / "annotations_detection.json")
    assert found.dataset_id == "ds_demo_shapes"
    assert len(found.files) == 50


def test_a_folder_without_annotations_or_with_two_datasets_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no annotation file"):
        find_dataset(tmp_path)
    document = json.loads((DATASET / "annotations_detection.json").read_text())
    (tmp_path / "annotations_detection.json").write_text(json.dumps(document))
    document["dataset_id"] = "another"
    (tmp_path / "annotations_classification.json").write_text(json.dumps(document))
    with pytest.raises(DatasetError, match="different datasets"):
        find_dataset(tmp_path)


def test_the_shipped_dataset_is_valid_dice_and_exactly_what_its_generator_writes(
    tmp_path: Path,
) -> None:
    document = json.loads((DATASET / "annotations_detection.json").read_text())
    assert validator("dice/annotations").errors(document) == []
    spec = importlib.util.spec_from_file_location("generate", DATASET / "generate.py")
    assert spec is not None and spec.loader is not None
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    generate.build(tmp_path)
    scripts = ["generate.py", "task_dataset.py", "__pycache__"]
    compared = filecmp.dircmp(DATASET, tmp_path, ignore=scripts)
    assert not compared.left_only and not compared.right_only
    for name in ("annotations_detection.json", "metadata.json"):
        assert (tmp_path / name).read_bytes() == (DATASET / name).read_bytes()
    for image in (tmp_path / "images").rglob("*.png"):
        assert image.read_bytes() == (DATASET / image.relative_to(tmp_path)).read_bytes()


# ----------------------------------------------------------------------------------- table


def test_the_table_shows_rejections_replays_and_no_job_id() -> None:
    rejected = entry(
        2,
        PROGRESS,
        {"x": 1},
        422,
        detail="bad",
        errors=[{"path": "$.current_epoch", "message": "-1 is less than 0"}, {"path": "$.a"}],
    )
    replayed = TimelineEntry(**{**progress(3, 1).__dict__, "replays": 2})
    table = format_timeline([progress(1, 0), rejected, replayed])
    assert (
        table.splitlines()[0]
        == "no primary metric reported (report_validation names one): loss leads"
    )
    lines = table.splitlines()[1:]
    assert lines[0].split() == ["#", "t+s", "endpoint", "answer", "summary"]
    assert "REJECTED $.current_epoch: -1 is less than 0 (+1 more)" in lines[3]
    assert "200 x3" in lines[4]
    assert "0.20" in lines[4]  # seconds since the first callback
    assert "job_id=" not in table
    assert format_timeline([]) == "(the backend received no callback)"


def test_the_timeline_fits_the_width_and_leads_with_the_primary_metric() -> None:
    from trainer_tools.dry_run.verdict import VALIDATION_ENDPOINTS

    schema = ENDPOINTS[next(iter(VALIDATION_ENDPOINTS))].bodies[0]
    validation = example(schema)
    name = str(validation["primary_metric_name"])
    step = with_epoch(example(PROGRESS), 1)
    step["metrics"] = {"loss": 0.5, "extra_metrics": {"loss": 0.5, name: 0.42}}
    entries = [progress(1, 0), entry(2, PROGRESS, step), entry(3, schema, validation)]
    for width in (60, 80, 120):
        lines = format_timeline(entries, width=width).splitlines()
        assert max(len(line) for line in lines) <= width, lines
    table = format_timeline(entries, width=80).splitlines()
    assert table[0] == f"primary metric: {name} (leads each summary)"
    assert table[4].split()[4] == f"{name}=0.42"  # epoch 1's row leads with it
    assert table[5].split()[4].startswith(f"{name}=")  # the validation row too


# ------------------------------------------------------------------------------ arguments


def test_env_overrides_are_parsed_in_both_spellings_and_checked() -> None:
    import argparse

    from trainer_tools.commands import dry_run as command

    parser = argparse.ArgumentParser()
    command.configure(parser)
    args = parser.parse_args(["t.py", "--env", "A=1", "B=x=y", "--env", "C=", "--epochs", "2"])
    assert dict(args.env) == {"A": "1", "B": "x=y", "C": ""}
    assert args.epochs == 2
    for bad in (["t.py", "--env", "NOEQUALS"], ["t.py", "--epochs", "0"]):
        with pytest.raises(SystemExit):
            parser.parse_args(bad)


# --------------------------------------------------------------------------- trainer process


def test_processes_a_trainer_leaves_behind_are_stopped_not_waited_for(tmp_path: Path) -> None:
    import os
    import sys
    import time

    from trainer_tools.dry_run.trainer_process import run_trainer

    pid_file = tmp_path / "orphan.pid"
    train_py = tmp_path / "train.py"
    train_py.write_text(
        "import subprocess, sys\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "print('leaving a worker behind', flush=True)\n"
    )
    lines: list[str] = []
    started = time.monotonic()
    run = run_trainer(train_py, dict(os.environ), write=lines.append, drain_seconds=0.5)
    assert time.monotonic() - started < 20  # not the worker's 600 s
    assert run.exit_code == 0 and not run.timed_out
    assert lines == ["train | leaving a worker behind"]
    orphan = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while Path(f"/proc/{orphan}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    stat = Path(f"/proc/{orphan}/stat")
    # Gone, or a zombie waiting for init to reap it: either way it no longer runs.
    assert not stat.exists() or stat.read_text().split()[2] == "Z"
    assert sys.executable  # the trainer ran with this interpreter by default


def test_a_trainer_that_outlives_its_timeout_is_stopped_with_its_group(tmp_path: Path) -> None:
    import os

    from trainer_tools.dry_run.trainer_process import run_trainer

    train_py = tmp_path / "train.py"
    train_py.write_text("import time\nprint('start', flush=True)\ntime.sleep(600)\n")
    run = run_trainer(train_py, dict(os.environ), write=lambda line: None, timeout=1.0)
    assert run.timed_out
    assert run.exit_code != 0
    # SIGINT came first, so that a trainer can still report its failure: Python shows it.
    assert run.output_tail[0] == "start"
    assert run.output_tail[-1] == "KeyboardInterrupt"


def test_the_trainer_is_started_with_the_platforms_command_line(tmp_path: Path) -> None:
    """`python train.py --log-level INFO`, as the platform's Kubernetes manager starts it."""
    import os

    from trainer_contract.lint_rules import ENTRY_ARGS
    from trainer_tools.dry_run.trainer_process import run_trainer

    train_py = tmp_path / "train.py"
    train_py.write_text("import sys\nprint(' '.join(sys.argv[1:]), flush=True)\n")
    lines: list[str] = []
    run = run_trainer(train_py, dict(os.environ), write=lines.append)
    assert run.exit_code == 0
    assert lines == ["train | " + " ".join(ENTRY_ARGS)] == ["train | --log-level INFO"]
