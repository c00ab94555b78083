"""trainer-lint reads files as Python does and never hangs or crashes on what it finds:
FIFOs, dangling links, a BOM, a coding cookie, standard input (`trainer-lint -`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MINIMAL = ROOT / "examples" / "minimal" / "train.py"
COOKIE_TRAINER = (
    "# -*- coding: latin-1 -*-\n"
    + MINIMAL.read_text(encoding="utf-8")
    + "\n# caf\u00e9 cr\u00e8me\nNOTE = '\u00e9t\u00e9'\n"
)


def lint(*args: str, cwd: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "trainer_tools.trainer_lint", "--isolated", *args],
        cwd=cwd,
        input=stdin.decode("latin-1") if stdin is not None else None,
        capture_output=True,
        text=True,
        timeout=60,  # a hang fails the test instead of stalling the suite
        encoding="latin-1",
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


def test_a_fifo_in_a_folder_is_skipped_and_a_named_one_refused(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_bytes(MINIMAL.read_bytes())
    os.mkfifo(tmp_path / "helpers.py")  # nobody ever writes to it: opening it would block
    done = lint(".", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "helpers.py" not in done.stdout
    named = lint("helpers.py", cwd=tmp_path)
    assert named.returncode == 2
    assert "helpers.py:1:1: read error: a FIFO (named pipe), not a regular file" in named.stdout
    assert "trainer-lint -" in named.stdout


def test_a_dangling_symlink_is_an_error_naming_its_target(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_bytes(MINIMAL.read_bytes())
    (tmp_path / "model.py").symlink_to("gone/model.py")
    for args in ((".",), ("model.py",)):
        done = lint(*args, cwd=tmp_path)
        assert done.returncode == 2, done.stdout
        assert "model.py:1:1: read error: broken symbolic link to 'gone/model.py'" in done.stdout, (
            done.stdout
        )


def test_a_bom_and_a_coding_cookie_read_as_python_reads_them(tmp_path: Path) -> None:
    (tmp_path / "bom").mkdir()
    (tmp_path / "bom" / "train.py").write_bytes(b"\xef\xbb\xbf" + MINIMAL.read_bytes())
    (tmp_path / "cookie").mkdir()
    cookie = tmp_path / "cookie" / "train.py"
    cookie.write_bytes(COOKIE_TRAINER.encode("latin-1"))
    # Python runs both; the linter agrees that they are valid and clean.
    for path in (tmp_path / "bom" / "train.py", cookie):
        compiled = subprocess.run(
            [sys.executable, "-m", "py_compile", str(path)], capture_output=True, check=False
        )
        assert compiled.returncode == 0, compiled.stderr
        done = lint(str(path), cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
    # Latin-1 bytes without the cookie are not Python; the message says what to do.
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "train.py").write_bytes(COOKIE_TRAINER.split("\n", 1)[1].encode("latin-1"))
    done = lint("bad/train.py", cwd=tmp_path)
    assert done.returncode == 2
    line = COOKIE_TRAINER.split("\n", 1)[1].split("\n").index("# caf\u00e9 cr\u00e8me") + 1
    assert f"bad/train.py:{line}:1: read error: not valid utf-8 text" in done.stdout, done.stdout
    assert "coding: latin-1" in done.stdout


def test_finding_columns_count_characters_after_a_cookie(tmp_path: Path) -> None:
    source = (
        "# -*- coding: latin-1 -*-\nimport os\n\u00e9 = '/tmp'; x = os.path.join('/tmp', 'a')\n"
    )
    (tmp_path / "helper.py").write_bytes(source.encode("latin-1"))
    done = lint("--select", "TRL017", "helper.py", cwd=tmp_path)
    assert "helper.py:3:" in done.stdout, done.stdout + done.stderr


@pytest.mark.parametrize("name", ["train.py", "Dockerfile"])
def test_standard_input_is_linted_as_the_named_file(tmp_path: Path, name: str) -> None:
    if name == "train.py":
        broken = MINIMAL.read_text().replace("sdk.close()", "pass")
        done = lint("-", cwd=tmp_path, stdin=broken.encode())
        assert done.returncode == 1
        assert done.stdout.startswith("train.py:"), done.stdout
        assert "TRL008" in done.stdout
        clean = lint("-", cwd=tmp_path, stdin=MINIMAL.read_bytes())
        assert clean.returncode == 0, clean.stdout
        return
    dockerfile = b"FROM python:3.11-slim\nCOPY train.py ./\nCMD python train.py\n"
    done = lint("-", "--stdin-filename", name, cwd=tmp_path, stdin=dockerfile)
    assert done.returncode == 1
    assert "Dockerfile:3:1: TRL105" in done.stdout, done.stdout
