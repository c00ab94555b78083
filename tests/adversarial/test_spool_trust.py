"""A spool is data, not code: a crafted outbox cannot send the bearer token anywhere else.

A spool record carries a `path`; joined to CALLBACK_URL, `@127.0.0.1:PORT/steal` turns the
backend's host into user info and sends the request (with `Authorization: Bearer`) to another
server. Replay and a restart must send a record only to the path its endpoint and the spool's
job id produce, and refuse records whose stored path, endpoint or job id disagree.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from delivery_harness import (
    TOKEN,
    Listener,
    reference_backend,
    run_trainer,
    trainer_cli,
    trainer_env,
    write_trainer,
)

from trainer_contract.exit_codes import ExitCode
from trainer_sdk.delivery.outbox import outbox_path, read_outbox

LOG_PATH = "/training/jobs/7/callback/logs"


def _put(
    seq: int, path: str, message: str, *, endpoint: str = "training_logs", job: int = 7
) -> str:
    body = {"job_id": job, "event_type": "log", "message": message, "level": "INFO"}
    record = {
        "v": 1,
        "op": "put",
        "seq": seq,
        "key": str(uuid.uuid4()),
        "endpoint": endpoint,
        "method": "POST",
        "path": path,
        "coalescable": False,
        "created_at": "2026-12-02T00:00:00.000Z",
        "body": body,
    }
    return json.dumps(record) + "\n"


def _craft(spool: Path, port: int) -> None:
    spool.parent.mkdir(parents=True, exist_ok=True)
    spool.write_text(
        _put(1, LOG_PATH, "honest line")
        + _put(2, f"@127.0.0.1:{port}/steal", "crafted: user-info host")
        + _put(3, f"//127.0.0.1:{port}/steal", "crafted: network path")
        + _put(4, "/training/jobs/8/callback/logs", "crafted: another job's path", job=8)
        + _put(5, LOG_PATH, "crafted: unknown endpoint", endpoint="evil")
        + _put(6, LOG_PATH, "crafted: body of another job", job=8)
        + _put(7, LOG_PATH, "second honest line"),
        encoding="utf-8",
    )


def _messages(entries: list) -> list[str]:
    return [
        e.body["message"]
        for e in entries
        if e.accepted and isinstance(e.body, dict) and "message" in e.body
    ]


def test_replay_of_a_crafted_spool_never_sends_the_token_elsewhere(tmp_path: Path) -> None:
    with reference_backend(tmp_path / "backend") as backend, Listener() as thief:
        spool = outbox_path(tmp_path / "work", 7)
        _craft(spool, thief.port)
        env = trainer_env(backend.url, tmp_path / "work")
        replayed = trainer_cli(
            "outbox", "replay", str(spool), "--callback-url", backend.url, env=env
        )

        assert thief.seen == [], "a crafted spool sent a request to another server"
        assert _messages(backend.timeline(7)) == ["honest line", "second honest line"]
        assert _messages(backend.timeline(8)) == []
        # The refused records are named, and the run says it did not deliver everything.
        assert replayed.returncode == int(ExitCode.TRAINING_FAILURE), replayed.stdout
        assert replayed.stderr.count("not sent") == 5, replayed.stderr
        assert TOKEN not in replayed.stdout + replayed.stderr
        shown = trainer_cli("outbox", "show", str(spool), env=env)
        assert "5 refused" in shown.stdout, shown.stdout


def test_a_restart_with_a_crafted_spool_never_sends_the_token_elsewhere(tmp_path: Path) -> None:
    trainer = """
        from trainer_sdk import run

        def main(sdk):
            sdk.report_started("training", total_epochs=1)
            sdk.report_completed({"loss": 0.5}, total_epochs=1)

        run(main)
    """
    with reference_backend(tmp_path / "backend") as backend, Listener() as thief:
        work = tmp_path / "work"
        _craft(outbox_path(work, 7), thief.port)
        done = run_trainer(write_trainer(tmp_path / "t", trainer), trainer_env(backend.url, work))

        assert done.returncode == int(ExitCode.SUCCESS), done.stderr
        assert thief.seen == []
        assert _messages(backend.timeline(7))[:2] == ["honest line", "second honest line"]
        assert backend.phase(7) == "completed"
        assert "not sent" in done.stderr
        assert read_outbox(outbox_path(work, 7)).pending == ()
