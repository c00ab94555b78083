"""The trainer-lint command: exit status, formats, selection, pyproject config, noqa, explain."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from trainer_contract.lint_rules import LINT_RULES
from trainer_tools.trainer_lint import docs
from trainer_tools.trainer_lint.cli import EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE, main

ROOT = Path(__file__).resolve().parents[2]
TRAINERS = Path(__file__).parent / "fixtures" / "trainers"
CLEAN = (TRAINERS / "plain_pytorch.py").read_text(encoding="utf-8")
# One finding: TRL017 on line 4 (the hard-coded path), and nothing else.
ONE_FINDING = CLEAN.replace('os.path.join(TMP_DIR, "dataset")', '"/tmp/dataset"')


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project folder as the working directory (no pyproject.toml above it)."""
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)
    return project


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def codes_in(text_output: str) -> set[str]:
    """The codes of text-format output (every line but the summary)."""
    return {line.split()[1] for line in text_output.splitlines()[:-1]}


def finding_line(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def test_clean_file_exits_0(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "train.py").write_text(CLEAN, encoding="utf-8")
    code, out, _ = run([], capsys)  # default path: train.py
    assert code == EXIT_CLEAN
    assert "All checks passed" in out


def test_findings_exit_1_in_path_line_col_code_format(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "train.py").write_text(ONE_FINDING, encoding="utf-8")
    code, out, _ = run(["train.py"], capsys)
    line = finding_line(ONE_FINDING, '"/tmp/dataset"')
    column = ONE_FINDING.splitlines()[line - 1].index('"/tmp/dataset"') + 1
    assert code == EXIT_FINDINGS
    assert out.splitlines()[0].startswith(
        f"train.py:{line}:{column}: TRL017 hard-coded path '/tmp/dataset'"
    )
    assert out.splitlines()[-1] == "Found 1 problem in 1 file."


def test_exit_zero_keeps_findings_but_exits_0(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "train.py").write_text(ONE_FINDING, encoding="utf-8")
    code, out, _ = run(["--exit-zero"], capsys)
    assert code == EXIT_CLEAN
    assert "TRL017" in out


def test_syntax_error_exits_2_with_its_location(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "train.py").write_text("import os\n\ndef main(:\n    pass\n", encoding="utf-8")
    code, out, _ = run(["train.py"], capsys)
    assert code == EXIT_USAGE
    assert "train.py:3:10: syntax error: invalid syntax" in out


def test_missing_default_train_py_is_a_usage_error(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run([], capsys)
    assert code == EXIT_USAGE
    assert "train.py: no such file or folder" in err and "pass the path" in err


def test_unknown_option_is_a_usage_error(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--frobnicate"])
    assert exc.value.code == EXIT_USAGE


def test_select_and_ignore(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = ONE_FINDING.replace("ErrorType.UNKNOWN_ERROR", "ErrorType.TRAINING_ERROR")
    (workdir / "train.py").write_text(broken, encoding="utf-8")
    assert codes_in(run(["--select", "TRL012"], capsys)[1]) == {"TRL012"}
    code, out, _ = run(["--ignore", "TRL012,TRL017"], capsys)
    assert code == EXIT_CLEAN, out
    assert codes_in(run(["--select", "TRL01"], capsys)[1]) == {"TRL012", "TRL017"}


def test_unknown_code_in_select_names_it(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "train.py").write_text(CLEAN, encoding="utf-8")
    code, _, err = run(["--select", "TRL999"], capsys)
    assert code == EXIT_USAGE
    assert "'TRL999' matches no rule code" in err


def test_pyproject_configuration(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "train.py").write_text(ONE_FINDING, encoding="utf-8")
    (workdir / "pyproject.toml").write_text(
        '[tool.trainer-lint]\nignore = ["TRL017"]\n', encoding="utf-8"
    )
    assert run(["train.py"], capsys)[0] == EXIT_CLEAN
    assert run(["train.py", "--isolated"], capsys)[0] == EXIT_FINDINGS
    (workdir / "pyproject.toml").write_text(
        '[tool.trainer-lint]\nper-file-ignores = {"train.py" = ["TRL017"]}\n', encoding="utf-8"
    )
    assert run(["train.py"], capsys)[0] == EXIT_CLEAN


def test_pyproject_unknown_key_is_an_error_naming_it(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "train.py").write_text(CLEAN, encoding="utf-8")
    (workdir / "pyproject.toml").write_text(
        '[tool.trainer-lint]\nignores = ["TRL017"]\n', encoding="utf-8"
    )
    code, _, err = run(["train.py"], capsys)
    assert code == EXIT_USAGE
    assert "unknown key(s) ignores" in err and "allowed: select" in err


def test_noqa_silences_one_code_on_one_line(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    silenced = ONE_FINDING.replace('"/tmp/dataset")\n', '"/tmp/dataset")  # noqa: TRL017\n')
    (workdir / "train.py").write_text(silenced, encoding="utf-8")
    assert run(["train.py"], capsys)[0] == EXIT_CLEAN
    other = ONE_FINDING.replace('"/tmp/dataset")\n', '"/tmp/dataset")  # noqa: TRL004\n')
    (workdir / "train.py").write_text(other, encoding="utf-8")
    assert run(["train.py"], capsys)[0] == EXIT_FINDINGS
    in_string = ONE_FINDING.replace('"/tmp/dataset"', '"/tmp/dataset  # noqa"')
    (workdir / "train.py").write_text(in_string, encoding="utf-8")
    assert run(["train.py"], capsys)[0] == EXIT_FINDINGS, "noqa inside a string is not a comment"


def test_folders_are_walked_and_helpers_get_only_file_level_rules(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "train.py").write_text(CLEAN, encoding="utf-8")
    (workdir / "data_utils.py").write_text(
        "def cache_dir():\n    return '/tmp/cache'\n", encoding="utf-8"
    )
    (workdir / ".venv").mkdir()
    (workdir / ".venv" / "junk.py").write_text("def f(:\n", encoding="utf-8")
    code, out, _ = run(["."], capsys)
    assert code == EXIT_FINDINGS
    assert out.splitlines()[:-1] == [
        "data_utils.py:2:12: TRL017 hard-coded path '/tmp/cache': read the directory from TMP_DIR "
        "(`os.getenv('TMP_DIR', '/tmp')`) and join to it"
    ]


def test_json_format(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "train.py").write_text(ONE_FINDING, encoding="utf-8")
    code, out, _ = run(["--format", "json"], capsys)
    items = json.loads(out)
    assert code == EXIT_FINDINGS
    assert [(i["code"], i["name"], i["severity"], i["path"]) for i in items] == [
        ("TRL017", "hard-coded-scratch-path", "warning", "train.py")
    ]
    assert items[0]["line"] == finding_line(ONE_FINDING, '"/tmp/dataset"')
    assert items[0]["fix"] == LINT_RULES["TRL017"].fix


def test_github_format_escapes_properties(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = workdir / "a,b"
    folder.mkdir()
    (folder / "train.py").write_text(ONE_FINDING, encoding="utf-8")
    code, out, _ = run(["--format", "github", "a,b/train.py"], capsys)
    line = finding_line(ONE_FINDING, '"/tmp/dataset"')
    assert code == EXIT_FINDINGS
    assert out.startswith(f"::warning file=a%2Cb/train.py,line={line},col=")
    assert "title=TRL017 hard-coded-scratch-path::TRL017 hard-coded path" in out


def test_output_file(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "train.py").write_text(ONE_FINDING, encoding="utf-8")
    code, out, _ = run(["--format", "json", "--output-file", "lint.json"], capsys)
    assert code == EXIT_FINDINGS and out == ""
    assert json.loads((workdir / "lint.json").read_text(encoding="utf-8"))[0]["code"] == "TRL017"


def test_explain_prints_the_rule(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["--explain", "trl004"], capsys)
    assert code == EXIT_CLEAN
    assert out.startswith("# TRL004 report-progress-missing")
    assert LINT_RULES["TRL004"].why in out and "How it is checked" in out
    assert run(["--explain", "report-progress-missing"], capsys)[0] == EXIT_CLEAN
    code, _, err = run(["--explain", "TRL999"], capsys)
    assert code == EXIT_USAGE and "unknown rule 'TRL999'" in err


def test_list_rules(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["--list-rules"], capsys)
    assert code == EXIT_CLEAN
    assert [line.split()[0] for line in out.splitlines()] == list(LINT_RULES)


def test_docs_rules_md_is_current() -> None:
    committed = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert committed == docs.render_rules(), "run `python -m trainer_tools.trainer_lint.docs`"
    for code, rule in LINT_RULES.items():
        assert f"## {code} {rule.name}" in committed


def test_pre_commit_hook_runs_the_console_script() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    hook = next(h for h in hooks if h["id"] == "trainer-lint")
    assert hook["entry"] == "trainer-lint"
    assert hook["language"] == "python"
    # Dockerfiles are not Python: the hook filters by file name (`files`), over text files.
    assert hook["types"] == ["text"]


def test_console_script_end_to_end(tmp_path: Path) -> None:
    script = shutil.which("trainer-lint", path=str(Path(sys.executable).parent))
    assert script is not None, "the trainer-lint console script is not installed: pip install -e ."
    (tmp_path / "train.py").write_text(ONE_FINDING, encoding="utf-8")
    done = subprocess.run(
        [script, "train.py"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == EXIT_FINDINGS
    assert "TRL017" in done.stdout


def test_a_schema_change_reaches_the_linter_through_codegen(tmp_path: Path) -> None:
    """Add a hook name to the lifecycle schema, regenerate: a callback class using it now counts."""
    progress = CLEAN[
        CLEAN.index("            sdk.report_progress(") : CLEAN.index("        torch.save(")
    ]
    trainer = CLEAN.replace(progress, "            pass\n").replace(
        "        torch.save(",
        "        model.callbacks.append(Reporter(sdk, epochs))\n        torch.save(",
    )
    trainer += (
        "\n\nclass Reporter:\n    def __init__(self, sdk, epochs):\n        self.sdk = sdk\n"
        "        self.epochs = epochs\n\n    def on_custom_epoch_done(self, epoch, loss):\n"
        "        self.sdk.report_progress(epoch, self.epochs, {'loss': loss})\n"
    )
    (tmp_path / "train.py").write_text(trainer, encoding="utf-8")
    schemas = tmp_path / "schemas"
    shutil.copytree(ROOT / "schemas", schemas)
    doc = json.loads((schemas / "lifecycle.json").read_text(encoding="utf-8"))

    def lint_with(generated: Path | None) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ)
        if generated is not None:
            env["PYTHONPATH"] = os.pathsep.join([str(generated), env.get("PYTHONPATH", "")])
        return subprocess.run(
            [sys.executable, "-m", "trainer_tools.trainer_lint", "--select", "TRL004", "train.py"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    before = lint_with(None)
    assert before.returncode == EXIT_FINDINGS and "TRL004" in before.stdout, (
        before.stdout + before.stderr
    )
    doc["x-lint-vocabulary"]["epoch_hooks"].append("on_custom_epoch_done")
    (schemas / "lifecycle.json").write_text(json.dumps(doc), encoding="utf-8")
    out = tmp_path / "generated"
    out.mkdir()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "trainer_tools.codegen",
            "--schemas",
            str(schemas),
            "--out",
            str(out),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    after = lint_with(out)
    assert after.returncode == EXIT_CLEAN, after.stdout + after.stderr


def test_non_utf8_file_is_an_error_with_its_path(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "train.py").write_bytes(b"\xff\xfe not text")
    code, out, _ = run(["train.py"], capsys)
    assert code == EXIT_USAGE
    assert out.startswith("train.py:1:1: read error: cannot decode it as Python would")


def test_exclude_patterns_skip_folders(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "train.py").write_text(CLEAN, encoding="utf-8")
    (workdir / "vendor").mkdir()
    (workdir / "vendor" / "train.py").write_text(ONE_FINDING, encoding="utf-8")
    assert run(["."], capsys)[0] == EXIT_FINDINGS
    (workdir / "pyproject.toml").write_text(
        '[tool.trainer-lint]\nexclude = ["vendor"]\n', encoding="utf-8"
    )
    code, out, _ = run(["."], capsys)
    assert code == EXIT_CLEAN, out
    assert "All checks passed (1 file)" in out


def test_the_linter_never_imports_the_sdk_runtime(tmp_path: Path) -> None:
    """trainer-lint runs where the SDK and its dependencies are not installed."""
    (tmp_path / "train.py").write_text(CLEAN, encoding="utf-8")
    probe = (
        "import sys\n"
        "from trainer_tools.trainer_lint.cli import main\n"
        "code = main(['--isolated', '--format', 'json', 'train.py'])\n"
        "loaded = sorted(m for m in ('trainer_sdk', 'httpx', 'boto3', 'botocore', 'yaml', 'dotenv')"
        " if m in sys.modules)\n"
        "print(code, loaded, file=sys.stderr)\n"
        "sys.exit(3 if loaded else code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == EXIT_CLEAN, done.stderr


ENGINE = '''"""The training loop, kept in its own module."""


def fit(sdk, model, epochs):
    loss = None
    for epoch in range(1, epochs + 1):
        loss = model.step(epoch)
        sdk.report_progress(epoch, epochs, {"loss": loss})
    return loss
'''

MULTI_FILE_TRAIN = """import sys
import traceback

{import_line}
from trainer_sdk import CallbackDeliveryError, ErrorType, TrainerSDK


def main() -> int:
    sdk = TrainerSDK()
    try:
        epochs = sdk.get_basic_config()["epochs"]
        sdk.report_started("training", total_epochs=epochs)
        loss = {call}(sdk, object(), epochs)
        sdk.report_completed({{"loss": loss}}, {{}}, epochs)
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
"""


@pytest.mark.parametrize(
    ("import_line", "call"),
    [
        ("from engine import fit", "fit"),
        ("from engine import fit as run_epochs", "run_epochs"),
        ("import engine as eng", "eng.fit"),
    ],
)
def test_the_walk_follows_the_trainers_own_modules(
    workdir: Path, capsys: pytest.CaptureFixture[str], import_line: str, call: str
) -> None:
    (workdir / "engine.py").write_text(ENGINE, encoding="utf-8")
    # A copied single-file SDK next to the trainer is the SDK, never the trainer's code.
    (workdir / "trainer_sdk.py").write_text(
        "class TrainerSDK:\n    def report_progress(self):\n        pass\n", encoding="utf-8"
    )
    (workdir / "train.py").write_text(
        MULTI_FILE_TRAIN.format(import_line=import_line, call=call), encoding="utf-8"
    )
    code, out, _ = run(["train.py"], capsys)
    assert code == EXIT_CLEAN, out
    # Without the report in engine.py, the finding points into engine.py, at its epoch loop.
    (workdir / "engine.py").write_text(
        ENGINE.replace('        sdk.report_progress(epoch, epochs, {"loss": loss})\n', ""),
        encoding="utf-8",
    )
    code, out, _ = run(["train.py"], capsys)
    assert code == EXIT_FINDINGS
    assert out.splitlines()[0].startswith(
        f"engine.py:{finding_line(ENGINE, 'for epoch')}:5: TRL004 "
    )


def test_noqa_in_a_followed_module_applies_there(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    once = ENGINE.replace(
        '        sdk.report_progress(epoch, epochs, {"loss": loss})\n    return loss\n',
        '    sdk.report_progress(epochs, epochs, {"loss": loss})  # noqa: TRL005\n    return loss\n',
    )
    (workdir / "engine.py").write_text(once, encoding="utf-8")
    (workdir / "train.py").write_text(
        MULTI_FILE_TRAIN.format(import_line="from engine import fit", call="fit"), encoding="utf-8"
    )
    code, out, _ = run(["train.py"], capsys)
    assert code == EXIT_CLEAN, out


def test_torch_mode_switch_before_report_started_passes_and_a_training_call_does_not(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    start = '        sdk.report_started("training", total_epochs=epochs)\n'
    switched = CLEAN.replace(start, "        model.train()  # PyTorch's mode switch\n" + start)
    (workdir / "train.py").write_text(switched, encoding="utf-8")
    code, out, _ = run(["train.py"], capsys)
    assert code == EXIT_CLEAN, out
    trains = CLEAN.replace(start, "        trainer.train()  # a framework's training\n" + start)
    (workdir / "train.py").write_text(trains, encoding="utf-8")
    code, out, _ = run(["train.py"], capsys)
    assert code == EXIT_FINDINGS
    assert codes_in(out) == {"TRL003"}
    assert f"train.py:{finding_line(trains, 'sdk.report_started')}:" in out
