"""`trainer-sdk report SOURCE` the way a user runs it: from a file:// recording, an outbox left by
an unreachable backend, the reference backend's SQLite file and its URL; and the backend's live
pages (`/`, `/jobs/{id}`) in the browser."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from report_paths import ROOT, SCENARIO_TRAINER, SCREENSHOTS

from trainer_tools.dev_backend import Store, create_app
from trainer_tools.dry_run.services import AsgiServer
from trainer_tools.report.chromium import Chromium

TOKEN = "report-test-token"


def _trainer(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("CALLBACK", "JOB_ID"))}
    base.update(
        {
            "JOB_ID": "7",
            "EPOCHS": "6",
            "WORK_DIR": str(tmp_path / "work"),
            "TMP_DIR": str(tmp_path / "tmp"),
            "TASK_TYPE": "detection",
            "CALLBACK_MAX_RETRIES": "0",
            "CALLBACK_RETRY_DELAY": "0.01",
            "CALLBACK_TIMEOUT": "2",
            **env,
        }
    )
    return subprocess.run(
        [sys.executable, str(SCENARIO_TRAINER)],
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )


def _report(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trainer_tools.cli", "report", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def _open(chromium: Chromium, url: str, name: str) -> dict[str, object]:
    visit = chromium.visit(url)
    assert visit.console_errors == [] and visit.foreign_requests == []
    chromium.screenshot(SCREENSHOTS / f"{name}.png")
    result: dict[str, object] = chromium.evaluate(
        """(() => ({
          marks: [...document.querySelectorAll('#timeline .mark')].map(m => m.classList[1]),
          charts: document.querySelectorAll('svg.chart').length,
          checks: [...document.querySelectorAll('#verdict tr[data-check]')]
                   .map(r => [r.dataset.check, r.cells[0].textContent]),
          flags: [...document.querySelectorAll('#flags li')].map(li => li.textContent),
          state: document.getElementById('state').textContent,
          refresh: !!document.querySelector('meta[http-equiv=refresh]'),
        }))()"""
    )
    return result


def test_report_from_a_file_recording(tmp_path: Path, chromium: Chromium) -> None:
    recording = tmp_path / "callbacks.jsonl"
    run = _trainer({"CALLBACK_URL": recording.as_uri(), "REPORT_SCENARIO": "diverging"}, tmp_path)
    assert run.returncode == 0, run.stderr
    out = tmp_path / "report.html"
    done = _report(recording.as_uri(), "-o", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert re.match(r"report of job 7 \(\d+ callbacks, completed\): ", done.stdout)
    dom = _open(chromium, out.as_uri(), "file-recording")
    assert dom["state"] == "completed" and set(dom["marks"]) == {"accepted"}  # type: ignore[arg-type]
    # Judged by replaying into the reference backend: payloads and lifecycle; the rest needs a
    # process and S3, and says so.
    assert dom["checks"] == [
        ["payloads_valid", "PASS"],
        ["lifecycle_in_order", "PASS"],
        ["checkpoints_exist", "n/a"],
        ["exit_code_agrees", "n/a"],
        ["validation_accepted", "n/a"],
        ["training_succeeded", "n/a"],
    ]
    assert any("loss diverges at epoch 4" in f for f in dom["flags"])  # type: ignore[attr-defined]


def test_report_from_an_outbox_left_by_an_unreachable_backend(
    tmp_path: Path, chromium: Chromium
) -> None:
    run = _trainer({"CALLBACK_URL": "http://127.0.0.1:9", "REPORT_SCENARIO": "healthy"}, tmp_path)
    assert run.returncode != 0  # the backend never answered
    spools = list((tmp_path / "work").rglob("job-7*.jsonl"))
    assert spools, "the SDK left no outbox"
    out = tmp_path / "outbox.html"
    done = _report(str(spools[0]), "--output", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    dom = _open(chromium, out.as_uri(), "outbox")
    assert "pending" in dom["marks"]  # type: ignore[operator]
    assert any("never delivered" in f for f in dom["flags"])  # type: ignore[attr-defined]


@pytest.fixture
def backend(tmp_path: Path):  # type: ignore[no-untyped-def]
    store = Store(tmp_path / "backend.sqlite3")
    server = AsgiServer(create_app(store, token=TOKEN, public_pages=True)).start()
    yield server, store, tmp_path / "backend.sqlite3"
    server.stop()
    store.close()


def test_report_from_the_backend_url_and_store_and_live_pages(
    backend, tmp_path: Path, chromium: Chromium
) -> None:  # type: ignore[no-untyped-def]
    server, store, db = backend
    base = server.url
    # A job that has started and is still running: its page reloads itself.
    started = httpx.post(
        f"{base}/training/jobs/3/callback/progress",
        json={"job_id": 3, "status": "running", "current_epoch": 0, "total_epochs": 2},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert started.status_code == 200, started.text
    run = _trainer(
        {"CALLBACK_URL": base, "CALLBACK_TOKEN": TOKEN, "REPORT_SCENARIO": "failed"}, tmp_path
    )
    assert run.returncode == 1, run.stderr
    # The pages need no token (a browser cannot send one); the JSON timeline still does.
    assert httpx.get(f"{base}/jobs/7/timeline").status_code == 401
    index = _open_index(chromium, base)
    assert index == [["job 7", "failed"], ["job 3", "running"]]
    running = _open(chromium, f"{base}/jobs/3", "live-running")
    assert running["state"] == "running" and running["refresh"] is True
    failed = _open(chromium, f"{base}/jobs/7", "live-failed")
    assert failed["state"] == "failed" and failed["refresh"] is False
    # The same job from the URL and from the SQLite file, through the CLI.
    for source, name in ((f"{base}/jobs/7", "url.html"), (str(db), "store.html")):
        args = [source, "-o", str(tmp_path / name), "--job", "7"]
        done = (
            _report(*args, "--token", TOKEN, cwd=tmp_path)
            if "http" in source
            else _report(*args, cwd=tmp_path)
        )
        assert done.returncode == 0, done.stderr
        assert "report of job 7" in done.stdout and ", failed)" in done.stdout
    # Without public pages (a backend on another interface), the pages need the token too.
    private = AsgiServer(create_app(store, token=TOKEN)).start()
    try:
        assert httpx.get(f"{private.url}/jobs/7").status_code == 401
        assert httpx.get(f"{private.url}/").status_code == 401
        page = httpx.get(f"{private.url}/jobs/7", headers={"Authorization": f"Bearer {TOKEN}"})
        assert page.status_code == 200 and "illegal memory access" in page.text
    finally:
        private.stop()
    missing = _report(f"{base}/jobs/7", "-o", str(tmp_path / "x.html"), cwd=tmp_path)
    assert missing.returncode == 1 and "answered 401" in missing.stderr


def _open_index(chromium: Chromium, base: str) -> list[list[str]]:
    visit = chromium.visit(base + "/")
    assert visit.console_errors == [] and visit.foreign_requests == []
    rows: list[list[str]] = chromium.evaluate(
        "[...document.querySelectorAll('tr')].slice(1).map(r => [r.cells[0].textContent,"
        " r.cells[1].textContent])"
    )
    return rows


def test_report_names_a_source_it_cannot_read(tmp_path: Path) -> None:
    (tmp_path / "notes.jsonl").write_text('{"hello": 1}\n')
    done = _report(str(tmp_path / "notes.jsonl"), cwd=tmp_path)
    assert done.returncode == 1
    assert "notes.jsonl:1: not a callback recording line" in done.stderr
    done = _report(str(tmp_path / "absent.jsonl"), cwd=tmp_path)
    assert done.returncode == 1 and "absent.jsonl: no such file" in done.stderr
