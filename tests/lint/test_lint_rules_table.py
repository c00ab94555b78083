"""The rule table (schemas/lifecycle.json -> trainer_contract.lint_rules) and the rule modules agree."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from trainer_contract import lint_rules
from trainer_contract.error_type import ErrorType
from trainer_contract.lint_rules import LINT_RULES
from trainer_contract.sdk_api import SDK_METHODS
from trainer_tools.codegen.context import GenContext
from trainer_tools.codegen.targets import lint_rules as lint_rules_target
from trainer_tools.trainer_lint import lint_source
from trainer_tools.trainer_lint.rules import registry

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = ROOT / "schemas" / "lifecycle.json"
RULES_DIR = ROOT / "tools" / "trainer_tools" / "trainer_lint" / "rules"


def lifecycle() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def test_every_rule_has_exactly_one_module_and_every_module_a_rule() -> None:
    assert list(registry()) == list(LINT_RULES)


@pytest.mark.parametrize("code", list(LINT_RULES))
def test_rule_module_is_named_for_its_code_and_name(code: str) -> None:
    rule = LINT_RULES[code]
    expected = f"{code.lower()}_{rule.name.replace('-', '_')}.py"
    assert (RULES_DIR / expected).is_file(), f"rule {code} lives in rules/{expected}"
    assert registry()[code].how, f"rules/{expected} needs a docstring saying how it is checked"


@pytest.mark.parametrize("index", range(len(lifecycle()["x-rules"])))
def test_each_rule_entry_is_valid_against_the_document_itself(index: int) -> None:
    document = lifecycle()
    rule_schema = {k: v for k, v in document.items() if not k.startswith("x-")}
    jsonschema.Draft202012Validator(rule_schema).validate(document["x-rules"][index])


def test_rule_table_names_only_real_sdk_methods_and_error_types() -> None:
    for rule in LINT_RULES.values():
        assert set(rule.contract.sdk_methods) <= set(SDK_METHODS), rule.code
    methods = lint_rules.LIFECYCLE_METHODS
    for name in (
        methods.started,
        methods.progress,
        methods.completed,
        methods.failed,
        methods.close,
    ):
        assert name in SDK_METHODS
    assert lint_rules.OOM_ERROR_TYPE in ErrorType.__members__


LIFECYCLE_EXAMPLES = [
    "TRL002",
    "TRL003",
    "TRL004",
    "TRL005",
    "TRL006",
    "TRL007",
    "TRL008",
    "TRL020",
    "TRL021",
]


@pytest.mark.parametrize("code", list(LINT_RULES))
def test_documented_example_breaks_the_rule_and_the_fix_does_not(code: str) -> None:
    rule = LINT_RULES[code]
    lifecycle_rule = registry()[code].lifecycle
    path = "Dockerfile" if rule.language == "dockerfile" else "example.py"
    # The default rules, and this one (an opt-in hint is enabled by naming it).
    every = [c for c, r in LINT_RULES.items() if r.severity != "hint" or c == code]
    bad = {f.code for f in lint_source(rule.example, path, enabled=every, entry=lifecycle_rule)}
    good = {
        f.code for f in lint_source(rule.fix_example, path, enabled=every, entry=lifecycle_rule)
    }
    assert code in bad
    assert code not in good
    if code in LIFECYCLE_EXAMPLES or not lifecycle_rule:
        # Complete trainers (and single-statement snippets of the other rules) show one problem.
        assert bad == {code}
        assert good == set()


def test_codegen_output_matches_the_generated_module() -> None:
    ctx = GenContext.load(ROOT / "schemas")
    first = lint_rules_target.generate(ctx)
    assert first == lint_rules_target.generate(ctx), "codegen output must be deterministic"
    committed = (ROOT / "generated" / "trainer_contract" / "lint_rules.py").read_text(
        encoding="utf-8"
    )
    assert first["lint_rules.py"] == committed, "run `make generate`"


def _context_with(change: Any) -> GenContext:
    ctx = GenContext.load(ROOT / "schemas")
    schemas = copy.deepcopy(ctx.schemas)
    change(schemas["lifecycle"])
    return GenContext(schema_dir=ctx.schema_dir, schemas=schemas)


def test_codegen_rejects_a_malformed_rule_naming_it() -> None:
    def break_rule(doc: dict[str, Any]) -> None:
        doc["x-rules"][3]["severity"] = "fatal"

    with pytest.raises(SystemExit, match=r"x-rules\[3\] \(TRL004\)\['severity'\]"):
        lint_rules_target.generate(_context_with(break_rule))


def test_codegen_rejects_a_rule_about_a_method_the_sdk_lacks() -> None:
    def unknown_method(doc: dict[str, Any]) -> None:
        doc["x-rules"][1]["contract"]["sdk_methods"] = ["report_begun"]

    with pytest.raises(SystemExit, match="report_begun"):
        lint_rules_target.generate(_context_with(unknown_method))


def test_codegen_rejects_duplicate_codes() -> None:
    def duplicate(doc: dict[str, Any]) -> None:
        doc["x-rules"][2]["code"] = doc["x-rules"][1]["code"]

    with pytest.raises(SystemExit, match="duplicate"):
        lint_rules_target.generate(_context_with(duplicate))


def test_generated_module_is_importable_python_with_the_rules() -> None:
    text = lint_rules_target.generate(_context_with(lambda doc: None))["lint_rules.py"]
    namespace: dict[str, Any] = {}
    exec(compile(text, "lint_rules.py", "exec"), namespace)
    assert list(namespace["LINT_RULES"]) == [r["code"] for r in lifecycle()["x-rules"]]
    assert re.search(r"^# Generated by", text)
