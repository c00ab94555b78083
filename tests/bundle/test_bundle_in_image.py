"""The bundle as the guide's image uses it: `COPY trainer_sdk.py ./` then `USER appuser`.

`make bundle` writes the file 0644 whatever the umask; a non-root user imports it and runs a
trainer's lifecycle with it; an exception raised inside the SDK and left uncaught prints the
SDK's source lines; trainer-lint on the trainer's folder skips the copied bundle.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from bundle_isolation import distribution_closure

ROOT = Path(__file__).resolve().parents[2]
NOBODY = 65534
TRAINER = """
import json, os, sys
import trainer_sdk
from trainer_sdk import TrainerSDK
print("imported", trainer_sdk.__file__, "as uid", os.getuid(), flush=True)
if sys.argv[-1] == "lifecycle":
    with TrainerSDK() as sdk:
        sdk.report_started("training", total_epochs=1)
        sdk.report_progress(1, 1, {"loss": 0.5})
        sdk.report_completed({"loss": 0.5}, {}, 1)
else:
    TrainerSDK()  # no JOB_ID / CALLBACK_URL: a ConfigError nobody catches
"""


def _world_readable_folder() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="bundle-image-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def image(tmp_path: Path) -> Iterator[Path]:
    """/app, /site (runtime dependencies only) and a writable /out, readable by every user."""
    for root in _world_readable_folder():
        app, site, out = root / "app", root / "site", root / "out"
        for folder in (app, site, out):
            folder.mkdir()
            folder.chmod(0o755)
        out.chmod(0o777)
        for dist in distribution_closure("trainer-sdk"):
            for entry in dist.files or []:
                top = entry.parts[0]
                if top in ("..", "__pycache__") or top.endswith((".dist-info", ".pth")):
                    continue
                link = site / top
                if not link.exists():
                    link.symlink_to(Path(str(dist.locate_file(top))))
        yield root


def _as_user(root: Path, python: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the trainer as `nobody` when we are root (as the image's USER), else as ourselves."""

    def drop() -> None:
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)

    code = f"import sys; sys.path[:0] = [{str(root / 'app')!r}, {str(root / 'site')!r}]\n" + TRAINER
    out = root / "out"
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(out),
        "LANG": "C.UTF-8",
        "JOB_ID": "7",
        "CALLBACK_URL": f"file://{out}/callbacks.jsonl",
        "WORK_DIR": str(out),
        "TMP_DIR": str(out),
    }
    if "lifecycle" not in args:
        env = {k: v for k, v in env.items() if k not in ("JOB_ID", "CALLBACK_URL")}
    return subprocess.run(
        [python, "-I", "-S", "-c", code, *args],
        cwd=root / "app",
        env=env,
        preexec_fn=drop if os.geteuid() == 0 else None,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _interpreter(root: Path) -> str:
    """This interpreter when the non-root user may run it; else the system's of the same
    version (a root-only pyenv under /root is common on CI machines run as root)."""
    candidates = [sys.executable]
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    system = shutil.which(version, path="/usr/local/bin:/usr/bin:/bin")
    if system:
        candidates.append(system)
    for python in candidates:
        try:
            probe = _as_user(root, python, "--version-probe")
        except PermissionError:
            continue  # the user may not execute it (it lives under a private folder)
        if "imported" in probe.stdout or "ConfigError" in probe.stderr:
            return python
    pytest.fail(f"no {version} interpreter runnable by uid {NOBODY}: tried {candidates}")


def test_make_bundle_writes_a_file_everyone_can_read(image: Path) -> None:
    out = image / "app" / "trainer_sdk.py"
    previous = os.umask(0o077)  # a strict umask must not leak into the file's mode
    try:
        done = subprocess.run(
            [sys.executable, "-m", "trainer_tools.bundle", "--out", str(out)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        os.umask(previous)
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o644

    python = _interpreter(image)
    run = _as_user(image, python, "lifecycle")
    assert run.returncode == 0, run.stdout + run.stderr
    uid = NOBODY if os.geteuid() == 0 else os.geteuid()
    assert f"imported {out} as uid {uid}" in run.stdout
    lines = (image / "out" / "callbacks.jsonl").read_text().splitlines()
    assert len(lines) == 3, lines  # started, progress, completed

    # Uncaught, inside the SDK: the traceback shows the SDK's own source lines.
    failed = _as_user(image, python, "config")
    assert failed.returncode == 1
    assert f'File "{out}/trainer_sdk/config.py", line ' in failed.stderr, failed.stderr
    assert "    raise ConfigError(" in failed.stderr, failed.stderr
    assert "trainer_sdk.errors.ConfigError: invalid trainer configuration" in failed.stderr


def test_trainer_lint_skips_a_copied_bundle(tmp_path: Path, bundle_text: str) -> None:
    folder = tmp_path / "my-trainer"
    shutil.copytree(ROOT / "examples" / "minimal", folder)
    (folder / "trainer_sdk.py").write_text(bundle_text, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "trainer_tools.trainer_lint", "--isolated", "."],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "(2 files)" in done.stdout  # train.py and its Dockerfile, not the bundle
    # A trainer_sdk.py of the user's own (no bundle header) is still linted.
    (folder / "trainer_sdk.py").write_text("import os\nos.path.join('/tmp', 'x')\n")
    mine = subprocess.run(
        [sys.executable, "-m", "trainer_tools.trainer_lint", "--isolated", "."],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "trainer_sdk.py:2:" in mine.stdout, mine.stdout
