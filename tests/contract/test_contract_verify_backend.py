"""`trainer-sdk verify-backend URL` over real HTTP on loopback: scripted checks and schemathesis."""

from __future__ import annotations

import json

import pytest
from lenient_backend import lenient_app
from platform_like_backend import platform_like_app

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


def test_credentials_in_the_url_never_replace_the_bearer_token(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """httpx would send `user:password@` as Basic auth instead of the token: every
    authenticated check would get 401 and the backend would be blamed for it."""
    with AsgiServer(create_app(Store(":memory:"), token="tok-123")) as server:
        url = server.url.replace("://", "://ops:hunter2-pass@", 1)
        code = main(["verify-backend", url, "--token", "tok-123", "--examples", "2"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.splitlines()[-1].startswith("PASS: 23 of 23 checks passed")
    assert "hunter2" not in out + caplog.text
    assert "carries credentials" in caplog.text


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


def test_a_platform_like_backend_gets_true_findings_sorted_by_kind(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The server's root URL is enough (the /api/v1 prefix is found); 5xx and lost updates are
    defects, the error format, missing 409s and idempotency are contract differences, and jobs
    the backend does not know are reported as not checked, never as failures of the backend."""
    with AsgiServer(platform_like_app(known_jobs={42})) as server:
        code = main(
            ["verify-backend", server.url, "--examples", "0", "--job-id", "training=42", "--json"]
        )
        report = json.loads(capsys.readouterr().out)
        strict_differences_ok = main(
            [
                "verify-backend",
                server.url + "/api/v1",
                "--examples",
                "0",
                "--job-id",
                "training=42",
                "--differences-ok",
            ]
        )
    capsys.readouterr()
    assert code == 1 and strict_differences_ok == 1  # defects fail even with --differences-ok
    assert report["base_url"] == server.url + "/api/v1"
    by_kind: dict[str, list[str]] = {}
    for result in report["results"]:
        for failure, kind in zip(result["failures"], result["kinds"], strict=True):
            by_kind.setdefault(kind, []).append(failure)
    defects = by_kind["defect"]
    assert any("event_type longer than 10 characters: expected 4xx, got 500" in f for f in defects)
    assert any("went from 'completed' to 'running'" in f for f in defects)
    differences = by_kind["difference"]
    assert any("documented ['application/problem+json']" in f for f in differences)
    assert any("progress after the completion: expected 409, got 200" in f for f in differences)
    assert any("same Idempotency-Key with a different body" in f for f in differences)
    # Inference and export jobs were not given: their checks could not run here.
    assert any(
        "give an existing export job with --job-id export=ID" in f for f in by_kind["not checked"]
    )
    assert not any("job 42 does not exist" in f for f in by_kind["not checked"])
    assert report["defects"] == len(defects)
    # Route parameter names differ ({export_job_id}); the served document still has every route.
    served = next(r for r in report["results"] if r["name"] == "openapi-document-matches")
    assert not any("lacks" in f for f in served["failures"])


def test_contract_differences_alone_can_be_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    """--differences-ok: a backend with differences but no defect exits 0 (the report still lists
    them)."""
    with AsgiServer(lenient_app()) as server:
        code = main(["verify-backend", server.url, "--examples", "0", "--differences-ok"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "0 defect(s)" in out and "[difference]" in out


def test_the_text_report_names_each_thing_to_change_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with AsgiServer(platform_like_app(known_jobs={42})) as server:
        main(["verify-backend", server.url, "--examples", "0", "--job-id", "training=42"])
    out = capsys.readouterr().out
    digest = out.split("most frequent findings (what to change):\n", 1)[1].splitlines()
    themes = [line for line in digest if " x [" in line]
    assert themes and themes[0].split(" x ")[1].startswith("[defect]")  # defects first
    problem_format = [t for t in themes if "documented ['application/problem+json']" in t]
    assert len(problem_format) == 1 and int(problem_format[0].split(" x ")[0]) > 10
