"""A callback the backend keeps refusing never blocks the ones behind it.

The reference backend sits behind a loopback proxy that answers HTTP 500 to one log line, for
ever. After its retries that line is set aside as a dead letter (kept in the outbox, shown by
`trainer-sdk outbox show`, counted in the closing summary, sent by `outbox replay`), and every
later callback goes through: the job reaches `completed` and the trainer exits 0. A terminal
callback the backend refuses keeps the exit-2 path.
"""

from __future__ import annotations

import json
from pathlib import Path

from delivery_harness import (
    TOKEN,
    FaultProxy,
    reference_backend,
    run_trainer,
    trainer_cli,
    trainer_env,
    write_trainer,
)

from trainer_contract.exit_codes import ExitCode
from trainer_sdk.delivery.outbox import outbox_path, read_outbox

TRAINER = """
    from trainer_sdk import run

    def main(sdk):
        sdk.report_started("training", total_epochs=3)
        for epoch in (1, 2, 3):
            sdk.log_info("poisoned line" if epoch == 2 else f"epoch {epoch} went well")
            sdk.report_progress(epoch, 3, {"loss": 1.0 / epoch})
        sdk.report_completed({"loss": 0.33}, total_epochs=3)

    run(main)
"""


def _messages(backend_timeline: list) -> list[str]:
    return [
        e.body["message"]
        for e in backend_timeline
        if e.accepted and isinstance(e.body, dict) and "message" in e.body
    ]


def test_a_refused_log_line_is_dead_lettered_and_the_job_completes(tmp_path: Path) -> None:
    with reference_backend(tmp_path / "backend") as backend, FaultProxy(backend.url) as proxy:
        proxy.refuse(lambda path, body: b"poisoned line" in body)
        work = tmp_path / "work"
        script = write_trainer(tmp_path / "trainer", TRAINER)
        done = run_trainer(script, trainer_env(proxy.url, work))

        assert done.returncode == int(ExitCode.SUCCESS), done.stderr
        assert backend.phase(7) == "completed"
        timeline = backend.timeline(7)
        epochs = [
            e.body["current_epoch"]
            for e in timeline
            if e.accepted and isinstance(e.body, dict) and "current_epoch" in e.body
        ]
        assert epochs == [0, 1, 2, 3]
        assert _messages(timeline) == ["epoch 1 went well", "epoch 3 went well"]
        # The refused line was tried more than once (its retries) before it was set aside.
        refused = proxy.requests(lambda s: b"poisoned line" in s.body)
        assert len(refused) >= 2 and all(s.status == 500 for s in refused)

        # The closing summary counts the dead letter and names the way to send it.
        assert "1 dead letter" in done.stderr, done.stderr
        assert "outbox replay" in done.stderr

        spool = outbox_path(work, 7)
        state = read_outbox(spool)
        assert [json.loads(e.content)["message"] for e in state.dead] == ["poisoned line"]
        assert state.pending == ()
        env = trainer_env(backend.url, work)
        shown = trainer_cli("outbox", "show", str(spool), env=env)
        assert shown.returncode == 0, shown.stderr
        assert "1 dead" in shown.stdout and "dead" in shown.stdout.splitlines()[1], shown.stdout

        # Replayed while the backend still refuses it: it stays a dead letter, exit 2.
        refused_again = trainer_cli(
            "outbox", "replay", str(spool), "--callback-url", proxy.url, env=env
        )
        assert refused_again.returncode == int(ExitCode.CALLBACK_FAILURE), refused_again.stdout
        assert len(read_outbox(spool).dead) == 1

        # Replayed later straight to the backend (the fault is gone), it is delivered.
        replayed = trainer_cli(
            "outbox", "replay", str(spool), "--callback-url", backend.url, env=env
        )
        assert replayed.returncode == 0, replayed.stdout + replayed.stderr
        assert "poisoned line" in _messages(backend.timeline(7))
        assert read_outbox(spool).dead == ()
        assert TOKEN not in done.stderr + shown.stdout + replayed.stdout + replayed.stderr


def test_a_refused_completion_still_ends_with_exit_2(tmp_path: Path) -> None:
    with reference_backend(tmp_path / "backend") as backend, FaultProxy(backend.url) as proxy:
        proxy.refuse(lambda path, body: path.endswith("/callback/completion"))
        work = tmp_path / "work"
        script = write_trainer(tmp_path / "trainer", TRAINER)
        done = run_trainer(script, trainer_env(proxy.url, work))

        assert done.returncode == int(ExitCode.CALLBACK_FAILURE), done.stderr
        assert backend.phase(7) == "running"
        state = read_outbox(outbox_path(work, 7))
        # The completion is not a dead letter: it stays pending, first in line for a replay.
        assert len(state.pending) == 1 and state.pending[0].endpoint.endswith("completion")
