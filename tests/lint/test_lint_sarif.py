"""SARIF output is valid against the published SARIF 2.1.0 schema (kept as a fixture file)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema_rs
import pytest

from trainer_contract.lint_rules import LINT_RULES
from trainer_tools.trainer_lint.cli import EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE, main

SCHEMA = json.loads(
    (Path(__file__).parent / "fixtures" / "sarif" / "sarif-schema-2.1.0.json").read_text(
        encoding="utf-8"
    )
)
TRAINERS = Path(__file__).parent / "fixtures" / "trainers"
ROOT = Path(__file__).resolve().parents[2]
DOCKERFILES = Path(__file__).parent / "fixtures" / "dockerfiles"


def assert_valid_sarif(log: dict[str, Any]) -> None:
    # Two validators: jsonschema for exact draft-04 structure with readable errors, jsonschema-rs
    # because it also checks `format` (uri) without optional plugins.
    errors = sorted(jsonschema.Draft4Validator(SCHEMA).iter_errors(log), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])
    validator = jsonschema_rs.Draft4Validator(SCHEMA, validate_formats=True)
    assert validator.is_valid(log), [str(e) for e in validator.iter_errors(log)][:10]


def sarif_of(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    code = main(["--format", "sarif", *argv])
    return code, json.loads(capsys.readouterr().out)


def test_schema_fixture_is_the_sarif_2_1_0_schema() -> None:
    jsonschema.Draft4Validator.check_schema(SCHEMA)
    assert SCHEMA["id"].endswith("/sarif-schema-2.1.0.json")
    assert SCHEMA["properties"]["version"]["enum"] == ["2.1.0"]


def test_sarif_with_findings_is_valid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    text = (TRAINERS / "guide_basic.py").read_text(encoding="utf-8")
    (tmp_path / "my trainer").mkdir()
    (tmp_path / "my trainer" / "train.py").write_text(text, encoding="utf-8")
    code, log = sarif_of(["my trainer/train.py"], capsys)
    assert code == EXIT_FINDINGS
    assert_valid_sarif(log)
    run = log["runs"][0]
    results = run["results"]
    assert [r["ruleId"] for r in results] == ["TRL017", "TRL017", "TRL017", "TRL028", "TRL012"]
    rules = run["tool"]["driver"]["rules"]
    # Every rule the run checked: all but the opt-in hints.
    assert [r["id"] for r in rules] == [c for c, r in LINT_RULES.items() if r.severity != "hint"]
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"] == {
            "uri": "my%20trainer/train.py",
            "uriBaseId": "%SRCROOT%",
        }
        assert location["region"]["startLine"] >= 1
    assert {r["level"] for r in results} == {"warning"}


def test_sarif_without_findings_is_valid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "train.py").write_text(
        (TRAINERS / "keras_callback.py").read_text(encoding="utf-8"), encoding="utf-8"
    )
    code, log = sarif_of(["--select", "TRL00"], capsys)
    assert code == EXIT_CLEAN
    assert_valid_sarif(log)
    assert log["runs"][0]["results"] == []
    assert [r["id"] for r in log["runs"][0]["tool"]["driver"]["rules"]] == [
        c for c in LINT_RULES if c.startswith("TRL00")
    ]


def test_sarif_with_a_syntax_error_and_an_absolute_path_is_valid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "train.py"
    broken.write_text("def main(:\n", encoding="utf-8")
    code, log = sarif_of([str(broken)], capsys)
    assert code == EXIT_USAGE
    assert_valid_sarif(log)
    invocation = log["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    notification = invocation["toolExecutionNotifications"][0]
    assert notification["level"] == "error"
    assert notification["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].startswith(
        "file:///"
    )


def test_sarif_errors_are_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "train.py").write_text("from trainer_sdk import TrainerSDK\n", encoding="utf-8")
    code, log = sarif_of([], capsys)
    assert code == EXIT_FINDINGS
    assert_valid_sarif(log)
    assert [(r["ruleId"], r["level"]) for r in log["runs"][0]["results"]] == [("TRL001", "error")]


def test_sarif_with_dockerfile_findings_and_errors_is_valid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    template = (DOCKERFILES / "guide_fixed.Dockerfile").read_text(encoding="utf-8")
    (tmp_path / "Dockerfile").write_text(
        template.replace("USER appuser", "USER root").replace(
            'CMD ["python", "train.py"]', "ENV API_TOKEN=abc\nCMD python train.py"
        ),
        encoding="utf-8",
    )
    (tmp_path / "broken.Dockerfile").write_text("RUN echo\nFROM x\n", encoding="utf-8")
    # What the template copies from its build context (a clean trainer).
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    (tmp_path / "train.py").write_bytes((ROOT / "examples" / "minimal" / "train.py").read_bytes())
    code, log = sarif_of(["."], capsys)
    assert code == EXIT_USAGE  # one Dockerfile cannot be built
    assert_valid_sarif(log)
    run = log["runs"][0]
    assert sorted(r["ruleId"] for r in run["results"]) == ["TRL103", "TRL104", "TRL105"]
    rules = run["tool"]["driver"]["rules"]
    for result in run["results"]:
        rule = rules[result["ruleIndex"]]
        assert rule["id"] == result["ruleId"]
        assert "trainer-image" in rule["properties"]["tags"]
        assert "```dockerfile" in rule["help"]["markdown"]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"] == "Dockerfile"
    notification = run["invocations"][0]["toolExecutionNotifications"][0]
    assert "RUN before the first FROM" in notification["message"]["text"]
