"""Lint and runtime speak the same language: ErrorType strings, basic config keys, metric
names, and the exit code a failure report reaches when the backend is down."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from trainer_contract.error_type import ERROR_TYPE_SPELLINGS, ErrorType
from trainer_sdk import TrainerSDK
from trainer_sdk.errors import PayloadValidationError
from trainer_tools.trainer_lint.engine import lint_source

CANDIDATES = [
    *ERROR_TYPE_SPELLINGS,
    *(s.lower() for s in ERROR_TYPE_SPELLINGS),
    "resourceerror",
    "Resource Error",
    "RESOURCE-ERROR",
    "GPU_ERROR",
    "OOM",
    "",
    "DatasetErorr",
]


def runtime_accepts(sdk: TrainerSDK, text: str) -> tuple[bool, str]:
    try:
        sdk.report_failed(text, "x")
    except PayloadValidationError as exc:
        return False, str(exc)
    return True, ""


def lint_says(text: str) -> list[tuple[str, str]]:
    source = (
        "from trainer_sdk import TrainerSDK\n\nsdk = TrainerSDK()\n"
        f"sdk.report_failed({text!r}, 'x')\n"
    )
    return [(f.code, f.message) for f in lint_source(source, "helper.py", entry=False)]


@pytest.mark.parametrize("text", CANDIDATES)
def test_an_error_type_string_is_accepted_by_both_or_by_neither(
    text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {
        "JOB_ID": "1",
        "CALLBACK_URL": f"file://{tmp_path}/callbacks.jsonl",
        "WORK_DIR": str(tmp_path),
    }
    with TrainerSDK(env=env) as sdk:
        accepted, refusal = runtime_accepts(sdk, text)
    findings = lint_says(text)
    codes = [code for code, _ in findings]
    if accepted:
        # Accepted by both; lint asks for the member, which it names.
        assert codes == ["TRL025"], findings
        member = ERROR_TYPE_SPELLINGS.get(text) or ERROR_TYPE_SPELLINGS[text.upper()]
        assert f"write ErrorType.{ErrorType(member).name}" in findings[0][1]
    else:
        assert codes == ["TRL011"], findings
        # Both suggest the same member.
        suggested = refusal.split("use ", 1)[1].split(" ", 1)[0]
        assert suggested.startswith("ErrorType."), refusal
        assert f"use {suggested}" in findings[0][1], (refusal, findings)


def lint_cli(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trainer_tools.trainer_lint", "--isolated", *args, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_config_key_the_schema_does_not_define_names_the_right_one(tmp_path: Path) -> None:
    train = tmp_path / "helper.py"
    train.write_text(
        "from trainer_sdk import TrainerSDK\n\n"
        "sdk = TrainerSDK()\n"
        "config = sdk.get_basic_config()\n"
        "lr = config['learning_rate']\n"
        "batch = config.get('batch_size', 8)\n"
        "size = config['imgsz']\n"
    )
    done = lint_cli(train, "--select", "TRL026")
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"{train}:5:") and "TRL026" in lines[0]
    assert "no key 'learning_rate'" in lines[0] and "use config['lr0']" in lines[0]
    assert "no key 'batch_size'" in lines[1] and "use config['batch']" in lines[1]
    assert len(lines) == 3  # imgsz is a key: two findings and the summary


GUIDE_STYLE = (
    "import sys, traceback\n"
    "from trainer_sdk import CallbackDeliveryError, ErrorType, TrainerSDK\n\n\n"
    "def main():\n"
    "    sdk = TrainerSDK()\n"
    "    try:\n"
    "        sdk.report_started('training', total_epochs=1)\n"
    "        for epoch in range(1, 2):\n"
    "            sdk.report_progress(epoch, 1, {'loss': 0.5, 'mAP50_95': 0.4})\n"
    "        sdk.report_completed({'loss': 0.5}, {}, 1)\n"
    "        return 0\n"
    "    except Exception as exc:\n"
    "        sdk.report_failed(ErrorType.UNKNOWN_ERROR, str(exc), traceback.format_exc())\n"
    "        return 1\n"
    "    finally:\n"
    "        sdk.close()\n\n\n"
    "if __name__ == '__main__':\n"
    "    sys.exit(main())\n"
)
WRAPPED_ENTRY = (
    "if __name__ == '__main__':\n"
    "    try:\n"
    "        sys.exit(main())\n"
    "    except CallbackDeliveryError:\n"
    "        sys.exit(2)\n"
)


def test_the_metric_hint_is_opt_in_and_never_fails(tmp_path: Path) -> None:
    train = tmp_path / "train.py"
    train.write_text(
        GUIDE_STYLE.replace("if __name__ == '__main__':\n    sys.exit(main())\n", WRAPPED_ENTRY)
    )
    assert lint_cli(train).returncode == 0  # the hint is opt-in
    done = lint_cli(train, "--extend-select", "TRL027")
    assert done.returncode == 0, done.stdout  # shown, never failing
    assert (
        "TRL027 report_progress(): metric 'mAP50_95' is not a name the platform knows; "
        "did you mean 'mAP50-95'?" in done.stdout
    )


def test_a_failure_report_that_exits_1_when_the_backend_is_down_is_a_finding(
    tmp_path: Path,
) -> None:
    train = tmp_path / "train.py"
    train.write_text(GUIDE_STYLE)
    done = lint_cli(train)
    assert done.returncode == 1, done.stdout  # on by default: the guide's exit code 2 is at stake
    line = GUIDE_STYLE.splitlines().index(
        "        sdk.report_failed(ErrorType.UNKNOWN_ERROR, str(exc), traceback.format_exc())"
    )
    assert f":{line + 1}:9: TRL028 when the backend cannot be reached" in done.stdout
    assert "run(main)" in done.stdout
    assert "except CallbackDeliveryError: sys.exit(2)" in done.stdout
    # Either fix the finding names clears it.
    train.write_text(
        GUIDE_STYLE.replace("if __name__ == '__main__':\n    sys.exit(main())\n", WRAPPED_ENTRY)
    )
    assert lint_cli(train).returncode == 0
    # A sibling handler of the reporting `try` does not count: Python never hands it the error.
    sibling = GUIDE_STYLE.replace(
        "        return 1\n    finally:",
        "        return 1\n    except CallbackDeliveryError:\n        return 2\n    finally:",
    )
    train.write_text(sibling)
    assert "TRL028" in lint_cli(train).stdout


GUIDE = """
import sys, traceback
from trainer_sdk import ErrorType, TrainerSDK

def main():
    sdk = TrainerSDK()
    try:
        sdk.report_started("training", total_epochs=1)
        sdk.report_completed({"loss": 0.1}, {}, 1)
        return 0
    except Exception as exc:
        sdk.report_failed(ErrorType.FRAMEWORK_ERROR, str(exc), traceback.format_exc())
        return 1
    finally:
        sdk.close()

sys.exit(main())
"""
GUIDE_WRAPPED = GUIDE.replace(
    "import ErrorType,", "import CallbackDeliveryError, ErrorType,"
).replace(
    "sys.exit(main())\n",
    "try:\n    sys.exit(main())\nexcept CallbackDeliveryError:\n    sys.exit(2)\n",
)
RUN_MAIN = """
from trainer_sdk import TrainerSDK, run

def main(sdk):
    sdk.report_started("training", total_epochs=1)
    sdk.report_completed({"loss": 0.1}, {}, 1)

run(main)
"""


def test_the_backend_down_exit_code_the_finding_is_about(tmp_path: Path) -> None:
    """What TRL028 says, as it happens: the guide's pattern exits 1; run(main) and the guide's
    pattern with its entry call wrapped, the two fixes the finding names, exit 2."""
    import os
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "JOB_ID": "1",
        "CALLBACK_URL": f"http://127.0.0.1:{port}",
        "CALLBACK_MAX_RETRIES": "1",
        "CALLBACK_RETRY_DELAY": "0.05",
        "CALLBACK_TIMEOUT": "1",
        "WORK_DIR": str(tmp_path),
    }
    codes = {}
    for name, code in (("guide", GUIDE), ("wrapped", GUIDE_WRAPPED), ("run", RUN_MAIN)):
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
        )
        codes[name] = done.returncode
    assert codes == {"guide": 1, "wrapped": 2, "run": 2}
    # (TRL004: these one-epoch snippets send no progress.)
    assert [f.code for f in lint_source(GUIDE_WRAPPED, "train.py")] == ["TRL004"]
    assert [f.code for f in lint_source(GUIDE, "train.py")] == ["TRL004", "TRL028"]
