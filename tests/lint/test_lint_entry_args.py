"""TRL022: a parser that would reject the platform's `--log-level INFO` is reported, and the
report is true: the documented example really exits with 'unrecognized arguments' when started as
the platform starts it, and the fix really runs. TRL023 is in the corpus mutations."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from trainer_contract.lint_rules import ENTRY_ARGS, LINT_RULES
from trainer_tools.trainer_lint import lint_source

HEAD = "import argparse\nimport sys\n\nparser = argparse.ArgumentParser({ctor})\n"


def codes(source: str) -> list[str]:
    return [f.code for f in lint_source(source, "train.py") if f.code == "TRL022"]


@pytest.mark.parametrize(
    ("ctor", "body", "flagged"),
    [
        ("", "parser.add_argument('--epochs')\nparser.parse_args()\n", True),
        ("", "parser.add_argument('--log_level')\nparser.parse_args()\n", True),
        (
            "",
            "parser.add_argument('--log-level', action='store_true')\nparser.parse_args()\n",
            True,
        ),
        ("", "parser.parse_args(sys.argv[1:])\n", True),
        ("", "parser.add_argument('--log-level', default='INFO')\nparser.parse_args()\n", False),
        ("", "parser.add_argument('--log-level-name')\nparser.parse_args()\n", False),
        (
            "allow_abbrev=False",
            "parser.add_argument('--log-level-name')\nparser.parse_args()\n",
            True,
        ),
        ("", "parser.add_argument('--epochs')\nparser.parse_known_args()\n", False),
        ("", "parser.add_argument('--epochs')\nparser.parse_args(['--epochs', '3'])\n", False),
        ("", "parser.add_argument(*names)\nparser.parse_args()\n", False),
        ("parents=[base]", "parser.parse_args()\n", False),
    ],
)
def test_parsers_are_judged_by_what_argparse_accepts(ctor: str, body: str, flagged: bool) -> None:
    source = HEAD.format(ctor=ctor) + body
    assert codes(source) == (["TRL022"] if flagged else []), source


def run(source: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    train = tmp_path / "train.py"
    train.write_text(source, encoding="utf-8")
    env = {"JOB_ID": "1", "CALLBACK_URL": f"file://{tmp_path / 'callbacks.jsonl'}"}
    env["WORK_DIR"] = str(tmp_path / "work")
    return subprocess.run(
        [sys.executable, str(train), *ENTRY_ARGS],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )


def test_the_rule_example_really_fails_as_the_platform_starts_it(tmp_path: Path) -> None:
    rule = LINT_RULES["TRL022"]
    bad = rule.example + "\nmain()\n"
    good = rule.fix_example + "\nmain()\n"
    assert codes(bad) == ["TRL022"] and codes(good) == []
    failed = run(bad, tmp_path)
    assert failed.returncode == 2 and "unrecognized arguments: --log-level INFO" in failed.stderr
    assert run(good, tmp_path).returncode == 0


def test_trainer_lint_cli_reports_it(tmp_path: Path) -> None:
    train = tmp_path / "train.py"
    train.write_text(LINT_RULES["TRL022"].example, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "trainer_tools.trainer_lint", str(train)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "TRL022" in done.stdout and "--log-level" in done.stdout
