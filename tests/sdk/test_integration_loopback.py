"""End to end against a real HTTP server on loopback: outages cost the run nothing, nothing is
delivered twice or out of order, and a backend that never returns gives exit code 2 and a full
outbox that `trainer-sdk outbox replay` delivers."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from loopback_backend import LoopbackBackend, Receipt

from trainer_sdk import TrainerSDK
from trainer_sdk.delivery.outbox import outbox_path, read_outbox

EPOCHS = 20


@pytest.fixture
def server() -> Iterator[LoopbackBackend]:
    backend = LoopbackBackend()
    backend.up()
    yield backend
    backend.down()


def _callbacks_in_order(receipts: list[Receipt]) -> list[tuple[str, object]]:
    """(kind, epoch-or-message) of each callback, to compare sequences."""
    out: list[tuple[str, object]] = []
    for r in receipts:
        kind = r.path.rsplit("/", 1)[-1]
        out.append((kind, r.body.get("current_epoch", r.body.get("message", r.body.get("status")))))
    return out


def _expected_sequence() -> list[tuple[str, object]]:
    expected: list[tuple[str, object]] = [("progress", 0)]
    for epoch in range(1, EPOCHS + 1):
        expected += [("progress", epoch), ("logs", f"epoch {epoch} done")]
    return [*expected, ("completion", "completed")]


def test_outage_mid_run_costs_nothing_and_loses_nothing(
    server: LoopbackBackend, tmp_path: Path
) -> None:
    env = {
        "JOB_ID": "11",
        "CALLBACK_URL": server.url,
        "WORK_DIR": str(tmp_path),
        "CALLBACK_RETRY_DELAY": "0.05",
        "CALLBACK_MAX_RETRIES": "6",
        "CALLBACK_TIMEOUT": "2",
    }
    backlog: list[int] = []
    outage_over = threading.Event()

    def outage() -> None:
        server.failing = True  # 1.5 s of 503s ...
        time.sleep(1.5)
        server.down()  # ... then 1.5 s of refused connections
        server.failing = False
        time.sleep(1.5)
        server.up()
        outage_over.set()

    with TrainerSDK(env=env) as sdk:
        sdk.report_started("training", total_epochs=EPOCHS)
        for epoch in range(1, EPOCHS + 1):
            if epoch == 5:
                threading.Thread(target=outage, daemon=True).start()
            time.sleep(0.2)  # an epoch of "training"
            sdk.report_progress(epoch, EPOCHS, {"loss": 1 / epoch, "mAP50-95": epoch / 40})
            sdk.log_info(f"epoch {epoch} done")
            if not outage_over.is_set():
                backlog.append(sdk.undelivered)
        assert outage_over.wait(10)
        sdk.report_completed({"loss": 0.05}, {"best": "s3://ckpt/11/best.pt"}, EPOCHS)
        stats = sdk.delivery_stats
        assert stats is not None and stats.retries > 0  # the outage really happened

    # The run kept going while callbacks piled up undelivered: it never waited on the backend.
    assert max(backlog) >= 6
    accepted = server.accepted()
    keys = [r.key for r in accepted]
    assert len(keys) == len(set(keys)), "a callback was accepted twice"
    assert _callbacks_in_order(accepted) == _expected_sequence()
    # Nothing at all arrived twice, not even a duplicate the backend would have had to drop.
    raw_ok = [r.key for r in server.receipts if r.status == 200]
    assert len(raw_ok) == len(set(raw_ok))
    assert read_outbox(outbox_path(tmp_path, 11)).pending == ()


TRAINER = textwrap.dedent(
    """
    import time
    from trainer_sdk import run

    def main(sdk):
        sdk.report_started("training", total_epochs=20)
        for epoch in range(1, 21):
            time.sleep(0.05)
            sdk.report_progress(epoch, 20, {"loss": 1.0 / epoch})
            sdk.log_info(f"epoch {epoch} done")
        sdk.report_completed({"loss": 0.05}, {"best": "s3://ckpt/12/best.pt"}, 20)

    run(main)
    """
)


def test_backend_that_never_returns_exits_2_and_replay_delivers_the_outbox(
    server: LoopbackBackend, tmp_path: Path
) -> None:
    def die_after_epoch_5(receipt: Receipt) -> None:
        if receipt.body.get("current_epoch") == 5:
            server.on_accept = None
            server.down_soon()

    server.on_accept = die_after_epoch_5
    script = tmp_path / "train.py"
    script.write_text(TRAINER)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("CALLBACK_", "JOB_"))},
        "JOB_ID": "12",
        "CALLBACK_URL": server.url,
        "WORK_DIR": str(tmp_path / "work"),
        "CALLBACK_RETRY_DELAY": "0.05",
        "CALLBACK_MAX_RETRIES": "3",
        "CALLBACK_TIMEOUT": "2",
    }
    done = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2, done.stderr
    assert "could not be reached" in done.stderr and "outbox replay" in done.stderr

    before = server.accepted()
    spool = outbox_path(tmp_path / "work", 12)
    pending = read_outbox(spool).pending
    assert pending, "the outbox must hold what was not delivered"
    # Delivered + spooled = every callback of the run, each exactly once, in order.
    delivered = _callbacks_in_order(before)
    spooled = [
        (
            e.path.rsplit("/", 1)[-1],
            e.body().get("current_epoch", e.body().get("message", e.body().get("status"))),
        )
        for e in pending
    ]
    assert delivered + spooled == _expected_sequence()
    assert not {r.key for r in before} & {e.key for e in pending}

    server.up()  # the backend is back (same port)
    cli = Path(sys.executable).with_name("trainer-sdk")
    replay = subprocess.run(
        [str(cli), "outbox", "replay", str(tmp_path / "work"), "--callback-url", server.url],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert replay.returncode == 0, replay.stderr
    assert f"delivered {len(pending)} of {len(pending)}" in replay.stdout
    after = server.accepted()
    assert _callbacks_in_order(after) == _expected_sequence()
    assert [r.key for r in after[len(before) :]] == [e.key for e in pending]  # original keys
    assert read_outbox(spool).pending == ()
