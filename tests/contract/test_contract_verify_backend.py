"""`trainer-sdk verify-backend URL` over real HTTP on loopback: scripted checks and schemathesis."""

from __future__ import annotations

import json

import pytest
from lenient_backend import lenient_app

from trainer_tools.cli import main
from trainer_tools.dev_backend import Store, create_app
from trainer_tools.dry_run.services import AsgiServer


def test_the_reference_backend_is_reported_conformant(capsys: pytest.CaptureFixture[str]) -> None:
    with AsgiServer(create_app(Store(":memory:"), token="tok-123")) as server:
        code = main(["verify-backend", server.url, "--token", "tok-123", "--examples", "5"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.splitlines()[-1].startswith("PASS: 23 of 23 checks passed")
    assert "fuzz negative POST /training/jobs/{job_id}/callback/progress" in out
    assert "tok-123" not in out


def test_a_lenient_backend_is_reported_with_what_to_fix(capsys: pytest.CaptureFixture[str]) -> None:
    with AsgiServer(lenient_app()) as server:
        code = main(["verify-backend", server.url, "--examples", "5", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    assert report["ok"] is False
    failed = {r["name"] for r in report["results"] if not r["ok"]}
    assert {"invalid-bodies-rejected", "lifecycle-enforced", "idempotency-key-honoured"} <= failed
    # schemathesis, too, sees invalid data being accepted.
    negative = [r for r in report["results"] if r["name"].startswith("fuzz negative")]
    assert negative and all(not r["ok"] for r in negative)
    assert any("Schema-violating request accepted" in f for r in negative for f in r["failures"])


def test_an_unreachable_backend_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    server = AsgiServer(lenient_app()).start()
    url = server.url
    server.stop()  # nothing listens there any more
    assert main(["verify-backend", url, "--examples", "0"]) == 2
    assert f"cannot connect to {url}" in capsys.readouterr().err
