"""Stop and resume: SIGTERM within the Job's grace period, a quiet second SIGTERM, a restart.

The grace period and the final report's budget are the contract's (`lifecycle.json`
`x-job-lifecycle.termination`); `k8s-job` renders the same grace period. The trainer runs as its
own process; the reference backend sits behind a loopback proxy that can hang requests.
"""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import yaml
from delivery_harness import (
    FaultProxy,
    reference_backend,
    run_trainer,
    start_trainer,
    trainer_cli,
    trainer_env,
    wait_for,
    write_trainer,
)

from trainer_contract.exit_codes import ExitCode
from trainer_contract.job_lifecycle import FINAL_REPORT_SECONDS, TERMINATION_GRACE_SECONDS
from trainer_sdk.delivery.outbox import outbox_path, read_outbox

LONG_TRAINING = """
    import sys
    import time

    from trainer_sdk import run

    def main(sdk):
        sdk.report_started("training", total_epochs=5)
        for epoch in (1, 2):
            sdk.report_progress(epoch, 5, {"loss": 1.0 / epoch})
        sdk.log_info("stuck line")
        print("training", flush=True)
        while True:
            time.sleep(0.1)

    run(main)
"""

RESUMED = """
    from trainer_sdk import run

    def main(sdk):
        sdk.report_started("training", total_epochs=5)
        for epoch in (3, 4, 5):
            sdk.report_progress(epoch, 5, {"loss": 1.0 / epoch})
        sdk.report_completed({"loss": 0.2}, total_epochs=5)

    run(main)
"""


def _wait_training(process: subprocess.Popen[str]) -> None:
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.strip() == "training", line + (process.stderr.read() if process.stderr else "")


def test_sigterm_delivers_the_failure_within_the_grace_period_and_a_restart_resumes(
    tmp_path: Path,
) -> None:
    assert FINAL_REPORT_SECONDS < TERMINATION_GRACE_SECONDS
    with reference_backend(tmp_path / "backend") as backend, FaultProxy(backend.url) as proxy:
        proxy.hang(lambda path, body: b"stuck line" in body)
        work = tmp_path / "work"
        # A per-request timeout longer than the grace period: only a bounded flush gets out.
        env = trainer_env(proxy.url, work, CALLBACK_TIMEOUT="120", CALLBACK_MAX_RETRIES="5")
        trainer = start_trainer(write_trainer(tmp_path / "t", LONG_TRAINING), env)
        try:
            _wait_training(trainer)
            wait_for(lambda: proxy.requests(lambda s: b"stuck line" in s.body), what="the hang")
            trainer.send_signal(signal.SIGTERM)
            # What Kubernetes does: SIGKILL when the grace period is over.
            code = trainer.wait(timeout=TERMINATION_GRACE_SECONDS)
        finally:
            trainer.kill()
            _, stderr = trainer.communicate()
        assert code == int(ExitCode.TRAINING_FAILURE), stderr
        assert backend.phase(7) == "failed"
        failed = [
            e.body for e in backend.timeline(7) if e.accepted and e.body.get("status") == "failed"
        ]
        assert failed and "Terminated" in failed[0]["error_message"]
        # The hung log line stays in the outbox for a replay, and the summary says so.
        pending = read_outbox(outbox_path(work, 7)).pending
        assert [e.endpoint for e in pending] == ["training_logs"]
        assert "1 kept in the outbox" in stderr

        # The platform starts the Job again with the same JOB_ID: the run resumes, no 409.
        again = run_trainer(write_trainer(tmp_path / "r", RESUMED), trainer_env(backend.url, work))
        assert again.returncode == int(ExitCode.SUCCESS), again.stderr
        assert backend.phase(7) == "completed"
        epochs = [
            e.body["current_epoch"]
            for e in backend.timeline(7)
            if e.accepted and "current_epoch" in e.body
        ]
        assert epochs == [0, 1, 2, 0, 3, 4, 5]


GUIDE_STYLE = """
    import sys
    import time

    from trainer_sdk import ErrorType, TrainerSDK

    sdk = TrainerSDK()
    try:
        sdk.report_started("training", total_epochs=5)
        sdk.report_progress(1, 5, {"loss": 1.0})
        sdk.log_info("stuck line")
        print("training", flush=True)
        while True:
            time.sleep(0.1)
    except Exception as exc:
        sdk.report_failed(ErrorType.UNKNOWN_ERROR, str(exc))
        sys.exit(1)
    finally:
        sdk.close()
"""


def test_a_guide_style_trainer_without_run_reports_sigterm_too(tmp_path: Path) -> None:
    with reference_backend(tmp_path / "backend") as backend, FaultProxy(backend.url) as proxy:
        proxy.hang(lambda path, body: b"stuck line" in body)
        work = tmp_path / "work"
        env = trainer_env(proxy.url, work, CALLBACK_TIMEOUT="120")
        trainer = start_trainer(write_trainer(tmp_path / "t", GUIDE_STYLE), env)
        try:
            _wait_training(trainer)
            wait_for(lambda: proxy.requests(lambda s: b"stuck line" in s.body), what="the hang")
            trainer.send_signal(signal.SIGTERM)
            code = trainer.wait(timeout=TERMINATION_GRACE_SECONDS)
        finally:
            trainer.kill()
            _, stderr = trainer.communicate()
        assert code == int(ExitCode.TRAINING_FAILURE), stderr
        assert backend.phase(7) == "failed"
        failed = [
            e.body for e in backend.timeline(7) if e.accepted and e.body.get("status") == "failed"
        ]
        assert failed and "Terminated" in failed[0]["error_message"]


def test_a_second_sigterm_exits_at_once_and_quietly(tmp_path: Path) -> None:
    with reference_backend(tmp_path / "backend") as backend, FaultProxy(backend.url) as proxy:
        work = tmp_path / "work"
        env = trainer_env(proxy.url, work, CALLBACK_TIMEOUT="120")
        trainer = start_trainer(write_trainer(tmp_path / "t", LONG_TRAINING), env)
        try:
            _wait_training(trainer)
            proxy.hang(lambda path, body: True)  # now the backend hangs on everything
            trainer.send_signal(signal.SIGTERM)
            wait_for(
                lambda: proxy.requests(lambda s: b'"status":"failed"' in s.body),
                what="the failure report to be attempted",
            )
            trainer.send_signal(signal.SIGTERM)
            code = trainer.wait(timeout=10)
        finally:
            trainer.kill()
            _, stderr = trainer.communicate()
        assert code == int(ExitCode.CALLBACK_FAILURE), stderr
        assert stderr.count("Traceback") == 1, stderr  # the first stop's, not a second one
        assert "second SIGTERM" in stderr
        # The failure report is kept for a replay.
        pending = read_outbox(outbox_path(work, 7)).pending
        assert pending and pending[-1].endpoint == "training_completion"


def test_a_kill_mid_run_then_a_restart_resumes_and_a_completed_job_stays_completed(
    tmp_path: Path,
) -> None:
    with reference_backend(tmp_path / "backend") as backend, FaultProxy(backend.url) as proxy:
        proxy.hang(lambda path, body: b"stuck line" in body)
        work = tmp_path / "work"
        trainer = start_trainer(
            write_trainer(tmp_path / "t", LONG_TRAINING), trainer_env(proxy.url, work)
        )
        try:
            _wait_training(trainer)
            wait_for(lambda: proxy.requests(lambda s: b"stuck line" in s.body), what="the hang")
            trainer.send_signal(signal.SIGKILL)  # kill -9 while a log line is in flight
            trainer.wait(timeout=30)
        finally:
            trainer.kill()
            trainer.communicate()
        assert backend.phase(7) == "running"
        env = trainer_env(backend.url, work)
        resumed = write_trainer(tmp_path / "r", RESUMED)
        again = run_trainer(resumed, env)
        assert again.returncode == int(ExitCode.SUCCESS), again.stderr
        assert backend.phase(7) == "completed"
        # The line killed in flight was delivered first by the restart, and once.
        timeline = [e.body for e in backend.timeline(7) if e.accepted]
        assert [b.get("message") for b in timeline].count("stuck line") == 1
        assert timeline[3].get("message") == "stuck line"  # after start, epochs 1 and 2
        # A completed job is final: starting it again is a conflict, reported as a failure.
        third = run_trainer(resumed, env)
        assert third.returncode == int(ExitCode.TRAINING_FAILURE)
        assert "409" in third.stderr
        assert backend.phase(7) == "completed"


def test_k8s_job_gives_the_contract_grace_period() -> None:
    done = trainer_cli("k8s-job", "--image", "trainer:1", "--job-id", "7", env={})
    assert done.returncode == 0, done.stderr
    (job,) = [d for d in yaml.safe_load_all(done.stdout) if d and d.get("kind") == "Job"]
    pod = job["spec"]["template"]["spec"]
    assert pod["terminationGracePeriodSeconds"] == TERMINATION_GRACE_SECONDS
