"""How the analysis follows real trainers: aliases, helpers, hooks, with forms, literal values."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from trainer_tools.trainer_lint import TrainerSyntaxError, lint_source

HEADER = (
    "import sys\nimport traceback\n\n"
    "from trainer_sdk import CallbackDeliveryError, ErrorType, TrainerSDK\n\n\n"
)


def lint(body: str, **kwargs: object) -> list[tuple[str, int]]:
    text = textwrap.dedent(body)
    return [(f.code, f.line) for f in lint_source(text, "train.py", **kwargs)]  # type: ignore[arg-type]


def codes(body: str) -> set[str]:
    return {code for code, _ in lint(body)}


def trainer(
    construct: str = "sdk = TrainerSDK()",
    loop_body: str = "sdk.report_progress(epoch, epochs, {'loss': 0.1})",
    imports: str = HEADER,
    helpers: str = "",
) -> str:
    """A compliant trainer whose construction, loop body and helpers a test replaces."""
    return (
        imports
        + helpers
        + textwrap.dedent(f"""
        def main() -> int:
            {construct}
            try:
                epochs = sdk.get_basic_config()["epochs"]
                sdk.report_started("training", total_epochs=epochs)
                for epoch in range(1, epochs + 1):
                    {loop_body}
                sdk.report_completed({{"loss": 0.1}}, {{}}, epochs)
                return 0
            except Exception as exc:
                sdk.report_failed(ErrorType.UNKNOWN_ERROR, str(exc), traceback.format_exc())
                return 1
            finally:
                sdk.close()


        if __name__ == "__main__":
            try:
                sys.exit(main())
            except CallbackDeliveryError:
                sys.exit(2)
        """)
    )


def test_baseline_trainer_is_clean() -> None:
    assert lint(trainer()) == []


@pytest.mark.parametrize(
    ("imports", "construct"),
    [
        (
            "import sys\nimport traceback\n\nfrom trainer_sdk import ErrorType\nfrom trainer_sdk import TrainerSDK as S\n\n",
            "sdk = S()",
        ),
        (
            "import sys\nimport traceback\n\nimport trainer_sdk as ts\nfrom trainer_sdk import ErrorType\n\n",
            "sdk = ts.TrainerSDK()",
        ),
        (HEADER + "def get_sdk():\n    return TrainerSDK()\n\n\n", "sdk = get_sdk()"),
    ],
    ids=["from-import-alias", "module-alias", "factory"],
)
def test_sdk_aliases_are_followed(imports: str, construct: str) -> None:
    assert lint(trainer(construct=construct, imports=imports)) == []
    # ... and still checked: drop report_progress and it is missed.
    text = trainer(construct=construct, imports=imports, loop_body="pass")
    assert codes(text) == {"TRL004"}


def test_progress_from_a_helper_called_in_the_loop() -> None:
    helpers = "def log_epoch(client, epoch, total):\n    client.report_progress(epoch, total, {'loss': 0.2})\n\n\n"
    assert lint(trainer(loop_body="log_epoch(sdk, epoch, epochs)", helpers=helpers)) == []


def test_progress_from_a_helper_called_once_is_not_per_epoch() -> None:
    helpers = "def log_epoch(client, epoch, total):\n    client.report_progress(epoch, total, {'loss': 0.2})\n\n\n"
    text = trainer(loop_body="pass", helpers=helpers).replace(
        "        sdk.report_completed(",
        "        log_epoch(sdk, epochs, epochs)\n        sdk.report_completed(",
    )
    assert codes(text) == {"TRL005"}


def test_recursive_helpers_terminate() -> None:
    helpers = "def spin(n):\n    return spin(n - 1) if n else 0\n\n\n"
    assert (
        lint(
            trainer(
                helpers=helpers,
                loop_body="spin(3); sdk.report_progress(epoch, epochs, {'loss': 0.1})",
            )
        )
        == []
    )


def test_with_trainer_sdk_closes_and_closing_too() -> None:
    text = trainer(construct="sdk = TrainerSDK()").replace(
        "    finally:\n        sdk.close()\n", ""
    )
    assert codes(text) == {"TRL008"}
    with_form = text.replace(
        "    sdk = TrainerSDK()\n    try:", "    with TrainerSDK() as sdk:\n     try:"
    )
    # Re-indent the try block under the with statement.
    lines = with_form.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("     try:"))
    end = next(i for i, line in enumerate(lines) if line.startswith("if __name__"))
    lines[start] = "        try:"
    for i in range(start + 1, end):
        if lines[i].strip():
            lines[i] = "    " + lines[i]
    assert lint("\n".join(lines) + "\n") == []


def test_atexit_registration_counts_as_closing() -> None:
    text = (
        trainer()
        .replace("    finally:\n        sdk.close()\n", "")
        .replace(
            "    sdk = TrainerSDK()\n", "    sdk = TrainerSDK()\n    atexit.register(sdk.close)\n"
        )
    )
    assert lint("import atexit\n" + text) == []


def test_while_epoch_loop_is_training() -> None:
    text = trainer(loop_body="pass").replace(
        "    for epoch in range(1, epochs + 1):\n            pass\n",
        "    epoch = 0\n        while epoch < epochs:\n            epoch += 1\n"
        "            sdk.report_progress(epoch, epochs, {'loss': 0.1})\n",
    )
    assert lint(text) == []


def test_exit_code_through_a_variable_and_system_exit() -> None:
    text = trainer().replace(
        "        sys.exit(main())\n", "        code = main()\n        raise SystemExit(code)\n"
    )
    assert lint(text) == []
    seven = text.replace("raise SystemExit(code)", "raise SystemExit(7)")
    line = seven.count("\n", 0, seven.index("raise SystemExit")) + 1
    # main()'s code is now dropped too: both findings, each at its own line.
    assert lint(seven) == [("TRL010", line - 1), ("TRL009", line)]
    assert codes(text.replace("raise SystemExit(code)", "print(code)")) == {"TRL010"}


@pytest.mark.parametrize(
    ("import_line", "call"),
    [
        ("from sys import exit as leave", "leave"),
        ("import sys as system", "system.exit"),
        ("from os import _exit as hard_exit", "hard_exit"),
        ("import os", "os._exit"),
    ],
)
def test_an_exit_function_under_another_name_is_still_an_exit(import_line: str, call: str) -> None:
    text = trainer().replace("import sys\n", f"import sys\n{import_line}\n", 1)
    text = text.replace("sys.exit(2)\n", f"{call}(2)\n")
    assert lint(text) == []
    bad = text.replace(f"{call}(2)", f"{call}(3)")
    assert lint(bad) == [("TRL009", line_of_text(bad, f"{call}(3)"))]


@pytest.mark.parametrize(
    ("before_start", "elsewhere", "expected"),
    [
        # PyTorch's mode switch, paired with model.eval() in the file: not training.
        ("model.train()", "model.eval()", set()),
        ("model.train(False)", "", set()),
        ("model.train(mode=True)", "", set()),
        # A framework's training call: training has begun before report_started.
        ("trainer.train()", "", {"TRL003"}),
        ("trainer.train()", "model.eval()", {"TRL003"}),
        ("model.train(data='data.yaml', epochs=3)", "model.eval()", {"TRL003"}),
        ("model.fit()", "model.eval()", {"TRL003"}),
    ],
)
def test_a_torch_mode_switch_before_report_started_is_not_training(
    before_start: str, elsewhere: str, expected: set[str]
) -> None:
    progress = "sdk.report_progress(epoch, epochs, {'loss': 0.1})"
    loop_body = f"{elsewhere}\n                    {progress}" if elsewhere else progress
    text = trainer(loop_body=loop_body).replace(
        "    sdk.report_started(", f"    {before_start}\n        sdk.report_started(", 1
    )
    assert codes(text) == expected


def line_of_text(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def test_oom_message_test_inside_a_generic_handler() -> None:
    text = trainer().replace(
        "        sdk.report_failed(ErrorType.UNKNOWN_ERROR, str(exc), traceback.format_exc())\n",
        "        if 'CUDA out of memory' in str(exc):\n"
        "            sdk.report_failed(ErrorType.CONFIG_ERROR, str(exc))\n"
        "        else:\n"
        "            sdk.report_failed(ErrorType.UNKNOWN_ERROR, str(exc))\n",
    )
    line = text.count("\n", 0, text.index("ErrorType.CONFIG_ERROR")) + 1
    assert lint(text) == [("TRL018", line)]
    # A string the SDK accepts is fine for TRL018; TRL025 asks for the member instead.
    as_string = text.replace("ErrorType.CONFIG_ERROR", "'ResourceError'")
    assert lint(as_string) == [("TRL025", line_of_text(as_string, "'ResourceError'"))]


def test_cuda_rules() -> None:
    body = "import torch\n\nmodel = torch.nn.Linear(2, 2)\nmodel.cuda()\n"
    assert lint(body, entry=False) == [("TRL019", 4)]
    assert lint(body + "device = 'cpu'\n", entry=False) == []
    assert (
        lint(
            body.replace("model.cuda()", "if torch.cuda.is_available():\n    model.cuda()"),
            entry=False,
        )
        == []
    )


def test_signature_rules_on_positional_and_keyword_arguments() -> None:
    assert lint("sdk.report_progress(1, 10, {'loss': 1.0}, epoch=2)\n", entry=False) == [
        ("TRL014", 1)
    ]
    assert lint("sdk.report_progress(1, 10)\n", entry=False) == [("TRL014", 1)]
    assert lint("sdk.report_progress(*args, **kwargs)\n", entry=False) == []
    assert lint("sdk.log('hello', level='TRACE')\n", entry=False) == [("TRL016", 1)]
    assert lint("sdk.log('hello', level='WARNING')\n", entry=False) == []
    assert lint("sdk.upload_file('a.png', 'k', storage_type='cold')\n", entry=False) == [
        ("TRL016", 1)
    ]
    assert lint("sdk.report_progress(1, 10, {'loss': None, **extra})\n", entry=False) == []
    assert lint("sdk.report_progress(1, 10, {'loss': 'high'})\n", entry=False) == [("TRL016", 1)]


def test_columns_count_characters_on_lines_with_korean() -> None:
    text = "x = '학습'; y = '/workspace/out'\n"
    findings = lint_source(text, "helper.py", entry=False)
    assert [(f.code, f.line, f.column) for f in findings] == [
        ("TRL017", 1, text.index("'/workspace") + 1)
    ]


def test_getenv_default_is_the_allowed_way_to_name_a_scratch_dir() -> None:
    text = "import os\n\nWORK = os.getenv('WORK_DIR', '/workspace')\nTMP = os.environ.get('TMP_DIR', default='/tmp')\n"
    assert lint(text, entry=False) == []
    assert lint("path = f'/tmp/{name}'\n", entry=False) == [("TRL017", 1)]
    assert lint("path = '/tmpfiles/x'\n", entry=False) == []


def test_error_type_attributes() -> None:
    text = "from trainer_sdk import ErrorType as E\n\na = E.DATASET_ERROR\nb = E.DATA_ERROR\nc = E.__members__\nd = E.TRAINING_ERROR\n"
    assert lint(text, entry=False) == [("TRL011", 4), ("TRL012", 6)]


def test_unknown_sdk_method_only_on_sdk_objects() -> None:
    text = "import logging\n\nlogger = logging.getLogger()\nlogger.log(20, 'x')\nself_sdk_path = 1\nsdk.report_done()\n"
    assert lint(text, entry=False) == [("TRL013", 6)]


def test_syntax_error_carries_its_location() -> None:
    with pytest.raises(TrainerSyntaxError) as exc:
        lint_source("x = (\n", "train.py")
    assert (exc.value.path, exc.value.line) == ("train.py", 1)


def test_export_script_is_not_held_to_the_training_rules() -> None:
    text = (Path(__file__).parent / "fixtures" / "trainers" / "export_onnx.py").read_text(
        encoding="utf-8"
    )
    assert lint(text) == []
    # The same script without its failure report is still caught.
    broken = text.replace(
        "        sdk.report_failed(ErrorType.FRAMEWORK_ERROR, str(exc), traceback.format_exc())\n",
        "",
    )
    assert codes(broken) == {"TRL007"}
    # Declared as training, it owes epochs and a completion.
    assert codes(text.replace('report_started("export")', 'report_started("training")')) == {
        "TRL004",
        "TRL006",
    }


def test_fan_out_of_helpers_is_walked_in_bounded_time() -> None:
    # helper_0 calls helper_1 twice, which calls helper_2 twice, ...: 2**30 paths if every call
    # were followed; the walk caps the entries per function, so this stays fast and still finds
    # the progress report at the bottom of the chain.
    depth = 30
    helpers = "".join(
        f"def helper_{i}(sdk, epoch, epochs):\n    helper_{i + 1}(sdk, epoch, epochs)\n"
        f"    helper_{i + 1}(sdk, epoch, epochs)\n\n\n"
        for i in range(depth)
    )
    helpers += (
        f"def helper_{depth}(sdk, epoch, epochs):\n"
        "    sdk.report_progress(epoch, epochs, {'loss': 0.1})\n\n\n"
    )
    assert lint(trainer(loop_body="helper_0(sdk, epoch, epochs)", helpers=helpers)) == []
