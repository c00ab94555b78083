"""A callback token that cannot be an HTTP header value is a ConfigError naming the variable,
never echoing the token: seen the way a user sees it, from a trainer process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TOKEN_PARTS = ("tok-first-half-4d2f", "tok-second-half-9a1c")
TRAINER = """
from trainer_sdk import TrainerSDK
TrainerSDK()
"""


@pytest.mark.parametrize("separator", ["\n", "\r\n", "\t", " "])
def test_a_token_with_a_line_break_or_blank_is_a_config_error(
    tmp_path: Path, separator: str
) -> None:
    token = separator.join(TOKEN_PARTS)
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("CALLBACK_TOKEN", "CONFIG")},
        "JOB_ID": "7",
        "CALLBACK_URL": (tmp_path / "callbacks.jsonl").as_uri(),
        "CALLBACK_TOKEN": token,
        "WORK_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-c", TRAINER],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "ConfigError" in done.stderr
    assert "CALLBACK_TOKEN" in done.stderr
    for part in TOKEN_PARTS:
        assert part not in done.stderr, done.stderr


def test_a_trailing_newline_is_refused_too(tmp_path: Path) -> None:
    """`echo $TOKEN > file` into a Secret leaves a newline: the message says what to look for."""
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("CALLBACK_TOKEN", "CONFIG")},
        "JOB_ID": "7",
        "CALLBACK_URL": (tmp_path / "callbacks.jsonl").as_uri(),
        "CALLBACK_TOKEN": TOKEN_PARTS[0] + "\n",
        "WORK_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-c", TRAINER],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "CALLBACK_TOKEN" in done.stderr and "line break" in done.stderr
    assert TOKEN_PARTS[0] not in done.stderr
