"""The SDK test suite passes against the bundle, not only against the installed package."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# The SDK suite has well over this many tests; fewer means it was not really run.
_MINIMUM_TESTS = 50

_RUN = """
import sys
import pytest
code = pytest.main(["-q", "-p", "no:cacheprovider", "-p", "no:randomly", "tests/sdk"])
import trainer_contract.validators, trainer_sdk
print("SDK-UNDER-TEST", trainer_sdk.__file__)
print("CONTRACT-UNDER-TEST", trainer_contract.validators.__file__)
sys.exit(code)
"""


def test_sdk_suite_passes_against_the_bundle(app_dir: Path) -> None:
    bundle = app_dir / "trainer_sdk.py"
    env = {**os.environ, "TRAINER_SDK_BUNDLE": str(bundle)}
    done = subprocess.run(
        [sys.executable, "-c", _RUN],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    # The hook in tests/conftest.py loaded the bundle: the SDK and the contract the tests used
    # came from inside the file.
    assert f"SDK-UNDER-TEST {bundle}" in done.stdout
    assert f"CONTRACT-UNDER-TEST {bundle}/trainer_contract/validators.py" in done.stdout
    summary = [line for line in done.stdout.splitlines() if " passed" in line][-1]
    passed = int(summary.split(" passed")[0].split()[-1])
    assert passed > _MINIMUM_TESTS, summary
    assert " failed" not in summary and " error" not in summary, summary


def test_the_hook_fails_loudly_on_a_missing_bundle(tmp_path: Path) -> None:
    env = {**os.environ, "TRAINER_SDK_BUNDLE": str(tmp_path / "absent.py")}
    done = subprocess.run(
        [sys.executable, "-c", "import trainer_tools.bundle.under_test"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "no such file; build it with `make bundle`" in done.stderr
