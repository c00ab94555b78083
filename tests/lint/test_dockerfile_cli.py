"""The trainer-lint command on Dockerfiles: discovery beside train.py and in folders, selection,
noqa, every output format, --explain, build errors, and secrets that never reach the output."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from lint_mutations import line_of

from trainer_contract.lint_rules import LINT_RULES
from trainer_tools.trainer_lint.cli import EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE, main

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"
TRAINER = (FIXTURES / "trainers" / "plain_pytorch.py").read_text(encoding="utf-8")
TEMPLATE = (FIXTURES / "dockerfiles" / "guide_fixed.Dockerfile").read_text(encoding="utf-8")
CMD = 'CMD ["python", "train.py"]'
SECRET_VALUE = "hf_S3cr3tValueThatMustNeverBePrinted"
LEAKY = TEMPLATE.replace(
    CMD, f'ENV HF_TOKEN={SECRET_VALUE}\nARG DB_PASSWORD="{SECRET_VALUE} 2"\n{CMD}'
)


def build_context(folder: Path) -> None:
    """The files the template copies from its build context (trainer_sdk.py is copied in at
    build time and not checked)."""
    for name in ("pyproject.toml", "train.py"):
        if not (folder / name).exists():
            (folder / name).write_text(TRAINER if name == "train.py" else "# context\n", "utf-8")


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)
    (project / "pyproject.toml").write_text("# build context\n", encoding="utf-8")
    return project


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def finding_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if re.match(r"^\S+:\d+:\d+: TRL\d{3} ", line)]


def test_the_dockerfile_beside_train_py_is_linted_with_it(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "train.py").write_text(TRAINER, encoding="utf-8")
    (workdir / "Dockerfile").write_text(TEMPLATE.replace("USER appuser", "USER root"), "utf-8")
    code, out, _ = run([], capsys)  # default: train.py, and the Dockerfile beside it
    assert code == EXIT_FINDINGS
    line = line_of(TEMPLATE, "USER appuser")
    assert finding_lines(out) == [
        f"Dockerfile:{line}:1: TRL103 USER root runs the trainer as root: create a user "
        "(`RUN useradd -m -u 1000 appuser`) and switch to it with `USER appuser`"
    ]
    assert out.splitlines()[-1] == "Found 1 problem in 1 file."
    # Named twice (pre-commit passes both): linted once.
    code, out, _ = run(["train.py", "Dockerfile"], capsys)
    assert len(finding_lines(out)) == 1


def test_a_clean_pair_passes(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "train.py").write_text(TRAINER, encoding="utf-8")
    (workdir / "Dockerfile").write_text(TEMPLATE, encoding="utf-8")
    code, out, _ = run(["train.py"], capsys)
    assert (code, out) == (EXIT_CLEAN, "All checks passed (2 files).\n")


def test_folders_are_walked_for_every_dockerfile_name(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    images = workdir / "images"
    images.mkdir()
    build_context(images)
    for name in ("Dockerfile.cuda", "cpu.Dockerfile", "Dockerfile"):
        (images / name).write_text(TEMPLATE.replace(CMD, "CMD python train.py"), "utf-8")
    (images / "notes.txt").write_text("FROM x\nUSER root\n", encoding="utf-8")
    code, out, _ = run(["."], capsys)
    assert code == EXIT_FINDINGS
    paths = [line.split(":")[0] for line in finding_lines(out)]
    assert paths == ["images/Dockerfile", "images/Dockerfile.cuda", "images/cpu.Dockerfile"]
    assert {line.split()[1] for line in finding_lines(out)} == {"TRL105"}


def test_select_ignore_and_per_file_ignores(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    both = TEMPLATE.replace("USER appuser", "USER root").replace(CMD, "CMD python train.py")
    (workdir / "Dockerfile").write_text(both, encoding="utf-8")
    build_context(workdir)
    codes = lambda out: [line.split()[1] for line in finding_lines(out)]  # noqa: E731
    assert codes(run(["Dockerfile"], capsys)[1]) == ["TRL103", "TRL105"]
    assert codes(run(["Dockerfile", "--select", "TRL105"], capsys)[1]) == ["TRL105"]
    assert codes(run(["Dockerfile", "--ignore", "TRL1"], capsys)[1]) == []
    assert codes(run(["Dockerfile", "--select", "TRL0"], capsys)[1]) == []
    (workdir / "pyproject.toml").write_text(
        '[tool.trainer-lint]\nper-file-ignores = { "Dockerfile" = ["TRL103"] }\n', "utf-8"
    )
    assert codes(run(["Dockerfile"], capsys)[1]) == ["TRL105"]


def test_a_dockerfile_docker_cannot_build_exits_2_with_its_line(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "Dockerfile").write_text("FROM python:3.11\nCOPPY train.py .\n", encoding="utf-8")
    code, out, _ = run(["Dockerfile"], capsys)
    assert code == EXIT_USAGE
    assert out.startswith("Dockerfile:2:1: Dockerfile error: unknown instruction 'COPPY'")


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_secret_values_never_reach_the_output(
    fmt: str, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "Dockerfile").write_text(LEAKY, encoding="utf-8")
    code, out, err = run(["--format", fmt, "Dockerfile"], capsys)
    assert code == EXIT_FINDINGS
    assert out.count("TRL104") >= 2
    assert "HF_TOKEN" in out and "DB_PASSWORD" in out
    assert SECRET_VALUE not in out + err


def test_json_and_github_formats_carry_dockerfile_positions(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "Dockerfile").write_text(LEAKY, encoding="utf-8")
    _, out, _ = run(["--format", "json", "Dockerfile"], capsys)
    items = json.loads(out)
    token = next(i for i in items if "HF_TOKEN" in i["message"])
    assert (token["path"], token["line"], token["column"]) == (
        "Dockerfile",
        line_of(LEAKY, "ENV HF_TOKEN"),
        len("ENV ") + 1,
    )
    assert (token["code"], token["name"], token["severity"]) == (
        "TRL104",
        "secret-in-image",
        "error",
    )
    _, out, _ = run(["--format", "github", "Dockerfile"], capsys)
    assert f"::error file=Dockerfile,line={line_of(LEAKY, 'ENV HF_TOKEN')},col=5," in out


def test_explain_a_dockerfile_rule(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["--explain", "TRL101"], capsys)
    assert code == EXIT_CLEAN
    assert out.startswith("# TRL101 entry-point-not-train-py")
    assert "```dockerfile\n" in out and "```python" not in out
    assert LINT_RULES["TRL101"].why in out


def test_the_rule_page_documents_dockerfile_rules_as_dockerfiles() -> None:
    page = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    for code, rule in LINT_RULES.items():
        if rule.language != "dockerfile":
            continue
        section = page[page.index(f"### {code} ") :]
        section = section[: section.index("\n### ", 1)] if "\n### " in section[1:] else section
        assert "```dockerfile\n" in section and "```python" not in section, code


def test_pre_commit_hook_runs_on_trainers_and_their_dockerfiles() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    hook = next(h for h in hooks if h["id"] == "trainer-lint")
    assert hook["entry"] == "trainer-lint" and hook["language"] == "python"
    files = re.compile(hook["files"])
    for name in ("train.py", "a/train.py", "Dockerfile", "x/gpu.Dockerfile", "Dockerfile.cuda"):
        assert files.search(name), name
    for name in ("engine.py", "Dockerfile/readme.md", "mytrain.py", "notes.txt"):
        assert not files.search(name), name


def test_a_schema_change_reaches_the_dockerfile_rules_through_codegen(tmp_path: Path) -> None:
    """Add a credential word to the lifecycle schema, regenerate: an ENV using it is reported."""
    (tmp_path / "Dockerfile").write_text(
        TEMPLATE.replace(CMD, f"ENV MODEL_SIGNING_KEY=abc\n{CMD}"), encoding="utf-8"
    )
    build_context(tmp_path)
    schemas = tmp_path / "schemas"
    shutil.copytree(ROOT / "schemas", schemas)

    def lint_with(generated: Path | None) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ)
        if generated is not None:
            env["PYTHONPATH"] = os.pathsep.join([str(generated), env.get("PYTHONPATH", "")])
        return subprocess.run(
            [sys.executable, "-m", "trainer_tools.trainer_lint", "--isolated", "Dockerfile"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    before = lint_with(None)
    assert before.returncode == EXIT_CLEAN, before.stdout + before.stderr
    doc = json.loads((schemas / "env.json").read_text(encoding="utf-8"))
    doc["x-secret-names"]["words"].append("SIGNING_KEY")
    (schemas / "env.json").write_text(json.dumps(doc), encoding="utf-8")
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
    assert after.returncode == EXIT_FINDINGS, after.stdout + after.stderr
    assert "TRL104 ENV MODEL_SIGNING_KEY" in after.stdout


def test_a_long_chain_of_stages_is_linted_and_inherits_from_the_first(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = (
        "FROM python:3.11 AS s0\nWORKDIR /app\nCOPY trainer_sdk.py train.py ./\nUSER 1000\n"
        'CMD ["python", "train.py"]\n'
    )
    chain = "".join(f"FROM s{i} AS s{i + 1}\n" for i in range(sys.getrecursionlimit() + 10))
    build_context(workdir)
    (workdir / "Dockerfile").write_text(first + chain, encoding="utf-8")
    assert run(["Dockerfile"], capsys)[0] == EXIT_CLEAN
    (workdir / "Dockerfile").write_text(first.replace("USER 1000", "USER 0") + chain, "utf-8")
    code, out, _ = run(["Dockerfile"], capsys)
    assert code == EXIT_FINDINGS
    assert finding_lines(out)[0].startswith("Dockerfile:4:1: TRL103 USER 0")
