"""`trainer-sdk outbox show|replay` in-process (the replay over HTTP is in the integration test)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from loopback_backend import LoopbackBackend

from trainer_sdk.delivery.envelope import Envelope, encode_body
from trainer_sdk.delivery.outbox import Outbox, outbox_path, read_outbox
from trainer_tools.commands import outbox as command


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    command.configure(parser)
    return parser.parse_args(list(argv))


def _spool(work: Path, count: int) -> Path:
    path = outbox_path(work, 9)
    box = Outbox(path)
    for seq in range(1, count + 1):
        box.put(
            Envelope(
                seq,
                f"key-{seq}",
                "training_logs",
                "POST",
                "/training/jobs/9/callback/logs",
                encode_body({"n": seq}),
            )
        )
    box.mark(1, "delivered")
    box.close()
    return path


def test_show_lists_pending_callbacks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _spool(tmp_path, 3)
    assert command.run(_parse("show", str(tmp_path))) == 0
    out = capsys.readouterr().out
    assert "2 pending, 0 dead (1 delivered)" in out and "key-2" in out and "key-3" in out


def test_replay_delivers_in_order_with_the_original_keys(tmp_path: Path) -> None:
    path = _spool(tmp_path, 4)
    server = LoopbackBackend()
    server.up()
    try:
        code = command.run(_parse("replay", str(path), "--callback-url", server.url))
    finally:
        server.down()
    assert code == 0
    assert [r.key for r in server.accepted()] == ["key-2", "key-3", "key-4"]
    assert read_outbox(path).pending == ()
    assert command.run(_parse("replay", str(path), "--callback-url", server.url)) == 0


def test_replay_to_an_unreachable_backend_exits_2_and_keeps_the_spool(tmp_path: Path) -> None:
    path = _spool(tmp_path, 2)
    server = LoopbackBackend()
    server.up()
    server.down()  # a port nobody listens on
    args = _parse(
        "replay",
        str(path),
        "--callback-url",
        server.url,
        "--max-retries",
        "1",
        "--retry-delay",
        "0.01",
    )
    assert command.run(args) == 2
    assert [e.key for e in read_outbox(path).pending] == ["key-2"]


def test_missing_spool_and_missing_url_are_clear_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert command.run(_parse("show", str(tmp_path / "nothing"))) == 1
    assert "no spool file" in capsys.readouterr().err
    monkeypatch.delenv("CALLBACK_URL", raising=False)
    _spool(tmp_path, 2)
    assert command.run(_parse("replay", str(tmp_path))) == 1
    assert "--callback-url" in capsys.readouterr().err
