"""What the linter sees statically and what only the dry-run sees, on the shipped examples.

trainer-lint proves the lifecycle calls are in place without running anything; the dry-run runs
the trainer and judges what actually reached the backend and S3. The broken examples show the
division of labour: two are caught by both, two only by running them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def lint_codes(path: Path) -> set[str]:
    completed = subprocess.run(
        [
            *(sys.executable, "-m", "trainer_tools.trainer_lint.cli"),
            *("--isolated", "--format", "json", str(path)),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode in (0, 1), completed.stderr
    return {finding["code"] for finding in json.loads(completed.stdout)}


@pytest.mark.parametrize(
    ("example", "codes"),
    [
        ("minimal/train.py", set()),
        ("broken/no_completed.py", {"TRL006"}),
        ("broken/exit_zero_after_failed.py", {"TRL021"}),
        # Only running them shows these two: the linter cannot know a payload's values or
        # whether an object was uploaded.
        ("broken/invalid_payload.py", set()),
        ("broken/phantom_checkpoint.py", set()),
    ],
)
def test_the_linter_sees_what_it_can(example: str, codes: set[str]) -> None:
    assert lint_codes(EXAMPLES / example) == codes
