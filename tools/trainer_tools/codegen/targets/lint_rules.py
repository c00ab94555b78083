"""`lint_rules.py`: the rule table and vocabulary of trainer-lint, from `schemas/lifecycle.json`.

The schema document describes one rule (it is a JSON Schema 2020-12 of a rule object); its
`x-rules` keyword is the table and `x-lint-vocabulary` names the framework hooks, training calls and
SDK names the analysis recognises. Every rule is validated against the document itself before
anything is written, so a malformed rule fails `make generate` with the rule's code and the field.
"""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema_rs

from trainer_tools.codegen.context import GenContext

SCHEMA = "lifecycle"

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
# Placements a Dockerfile rule may have: the image's last stage, or each instruction on its own.
_DOCKERFILE_PLACEMENTS = frozenset({"final_stage", "anywhere"})


def _fail(message: str) -> SystemExit:
    return SystemExit(f"schemas/{SCHEMA}.json: {message}")


def _rules(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The `x-rules` table, validated against the rule schema, unique codes in code order."""
    rules = schema.get("x-rules")
    if not isinstance(rules, list) or not rules:
        raise _fail("x-rules must be a non-empty list of rule objects")
    rule_schema = {k: v for k, v in schema.items() if not k.startswith("x-")}
    validator = jsonschema_rs.validator_for(rule_schema)
    seen_codes: set[str] = set()
    seen_names: set[str] = set()
    for index, rule in enumerate(rules):
        where = f"x-rules[{index}]" + (f" ({rule.get('code')})" if isinstance(rule, dict) else "")
        for error in validator.iter_errors(rule):
            path = "".join(f"[{p!r}]" for p in error.instance_path)
            raise _fail(f"{where}{path}: {error.message}; fix the rule to match the schema")
        if rule["code"] in seen_codes or rule["name"] in seen_names:
            raise _fail(f"{where}: duplicate code or name; codes and names are unique and stable")
        seen_codes.add(rule["code"])
        seen_names.add(rule["name"])
    codes = [rule["code"] for rule in rules]
    if codes != sorted(codes):
        raise _fail("x-rules must be sorted by code, so that the generated table is stable")
    return rules


def _vocabulary(schema: dict[str, Any]) -> dict[str, Any]:
    """`x-lint-vocabulary`: string, list-of-string or object-of-string values, identifier keys."""
    vocabulary = schema.get("x-lint-vocabulary")
    if not isinstance(vocabulary, dict) or not vocabulary:
        raise _fail("x-lint-vocabulary must be a non-empty object")
    for key, value in vocabulary.items():
        if not _IDENTIFIER.match(key):
            raise _fail(f"x-lint-vocabulary key {key!r} must be a lower_snake_case identifier")
        if isinstance(value, str):
            continue
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            if len(set(value)) != len(value):
                raise _fail(f"x-lint-vocabulary.{key} has duplicate entries")
            continue
        if isinstance(value, dict) and all(
            _IDENTIFIER.match(k) and isinstance(v, str) for k, v in value.items()
        ):
            continue
        raise _fail(
            f"x-lint-vocabulary.{key}: values are strings, lists of strings, or objects mapping "
            "identifiers to strings"
        )
    return vocabulary


def _q(text: str) -> str:
    """A Python string literal in ruff-format's quote style: double quotes, unless the text has
    more double quotes than single ones (then single quotes need fewer escapes)."""
    if text.count('"') > text.count("'"):
        return repr(text)  # repr() chooses single quotes when the text holds a double quote
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid Python literal


def _cross_check(ctx: GenContext, rules: list[dict[str, Any]], vocabulary: dict[str, Any]) -> None:
    """Names the rules use must exist in the schemas that define them (sdk-api, error-type)."""
    methods = set(ctx.schemas.get("sdk-api", {}).get("$defs", {}))
    named = [(f"x-rules {r['code']}", m) for r in rules for m in r["contract"]["sdk_methods"]]
    lifecycle = vocabulary.get("lifecycle_methods", {})
    named += [(f"x-lint-vocabulary.lifecycle_methods.{k}", m) for k, m in lifecycle.items()]
    if "basic_config_method" in vocabulary:
        named.append(("x-lint-vocabulary.basic_config_method", vocabulary["basic_config_method"]))
    for where, method in named:
        if methods and method not in methods:
            raise _fail(f"{where}: {method!r} is not a method in schemas/sdk-api.json $defs")
    for rule in rules:
        # A Dockerfile has no SDK calls and no lifecycle placements; a Python file no stages.
        dockerfile = rule.get("language") == "dockerfile"
        allowed = _DOCKERFILE_PLACEMENTS if dockerfile else None
        placement = rule["contract"]["placement"]
        if (allowed is not None and placement not in allowed) or (
            not dockerfile and placement == "final_stage"
        ):
            raise _fail(
                f"x-rules {rule['code']}: placement {placement!r} does not fit a "
                f"{rule.get('language', 'python')} rule"
            )
        if dockerfile and rule["contract"]["sdk_methods"]:
            raise _fail(f"x-rules {rule['code']}: a dockerfile rule names no SDK methods")
    members = {m["name"] for m in ctx.schemas.get("error-type", {}).get("x-enum-members", [])}
    oom = vocabulary.get("oom_error_type")
    if members and oom is not None and oom not in members:
        raise _fail(f"x-lint-vocabulary.oom_error_type: {oom!r} is not an ErrorType member")


def _camel(key: str) -> str:
    return "".join(part.capitalize() for part in key.split("_"))


def _export_order(name: str) -> tuple[int, str]:
    """isort-style order of `__all__`: CONSTANTS, then Classes, then functions."""
    return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)


def _str_tuple(values: list[str], indent: str = "") -> str:
    """A tuple literal; two or more items go one per line with a trailing comma (ruff's format)."""
    if not values:
        return "()"
    if len(values) == 1:
        return f"({_q(values[0])},)"
    inner = "".join(f"{indent}    {_q(v)},\n" for v in values)
    return f"(\n{inner}{indent})"


def _rule_entry(rule: dict[str, Any], default_language: str) -> list[str]:
    contract = rule["contract"]
    lines = [f"    {_q(rule['code'])}: LintRule("]
    for field in ("code", "name", "severity"):
        lines.append(f"        {field}={_q(rule[field])},")
    lines.append(f"        language={_q(rule.get('language', default_language))},")
    for field in ("summary", "what", "why", "example", "fix"):
        lines.append(f"        {field}={_q(rule[field])},")
    lines.append(f"        fix_example={_q(rule['fix_example'])},")
    lines.append("        contract=LintRuleContract(")
    lines.append(f"            sdk_methods={_str_tuple(contract['sdk_methods'], ' ' * 12)},")
    lines.append(f"            placement={_q(contract['placement'])},")
    lines.append(f"            facts={_str_tuple(contract['facts'], ' ' * 12)},")
    lines.append("        ),")
    lines.append("    ),")
    return lines


def _render(ctx: GenContext) -> str:
    schema = ctx.schemas[SCHEMA]
    rules = _rules(schema)
    vocabulary = _vocabulary(schema)
    _cross_check(ctx, rules, vocabulary)
    placement_enum = schema["properties"]["contract"]["properties"]["placement"]["enum"]
    severity_enum = schema["properties"]["severity"]["enum"]
    language = schema["properties"]["language"]
    exported = ["LINT_RULES", "Language", "LintRule", "LintRuleContract", "Placement", "Severity"]
    exported += [key.upper() for key in vocabulary]
    exported += [_camel(key) for key, value in vocabulary.items() if isinstance(value, dict)]
    lines = [
        ctx.header(),
        f'"""{schema["title"]}s of trainer-lint: the rule table and the analysis vocabulary.',
        "",
        f"Source: schemas/{SCHEMA}.json (`x-rules`, `x-lint-vocabulary`).",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "from dataclasses import dataclass",
        "from typing import Final, Literal",
        "",
        "__all__ = [",
        *[f"    {_q(name)}," for name in sorted(exported, key=_export_order)],
        "]",
        "",
        "Severity = Literal[" + ", ".join(_q(v) for v in severity_enum) + "]",
        "Language = Literal[" + ", ".join(_q(v) for v in language["enum"]) + "]",
        "Placement = Literal[",
        *[f"    {_q(v)}," for v in placement_enum],
        "]",
        "",
        "",
        "@dataclass(frozen=True, slots=True)",
        "class LintRuleContract:",
        '    """The contract facts a rule checks: SDK methods, where they belong, generated sources."""',
        "",
        "    sdk_methods: tuple[str, ...]",
        "    placement: Placement",
        "    facts: tuple[str, ...]",
        "",
        "",
        "@dataclass(frozen=True, slots=True)",
        "class LintRule:",
        '    """One trainer-lint rule: stable code and name, severity, and its documentation."""',
        "",
        "    code: str",
        "    name: str",
        "    severity: Severity",
        "    language: Language",
        '    """The kind of file the rule checks, and the language of its examples."""',
        "    summary: str",
        "    what: str",
        "    why: str",
        "    example: str",
        "    fix: str",
        "    fix_example: str",
        "    contract: LintRuleContract",
        "",
    ]
    for key, value in vocabulary.items():
        if not isinstance(value, dict):
            continue
        lines += [
            "",
            "@dataclass(frozen=True, slots=True)",
            f"class {_camel(key)}:",
            f'    """`x-lint-vocabulary.{key}` of the lifecycle schema."""',
            "",
        ]
        lines += [f"    {field}: str" for field in value]
        lines.append("")
    lines += ["", "# Every rule, in code order.", "LINT_RULES: Final[dict[str, LintRule]] = {"]
    for rule in rules:
        lines += _rule_entry(rule, language["default"])
    lines += ["}", "", "# The analysis vocabulary (`x-lint-vocabulary`)."]
    for key, value in vocabulary.items():
        name = key.upper()
        if isinstance(value, str):
            lines.append(f"{name}: Final[str] = {_q(value)}")
        elif isinstance(value, list):
            lines.append(f"{name}: Final[tuple[str, ...]] = {_str_tuple(value)}")
        else:
            lines.append(f"{name}: Final[{_camel(key)}] = {_camel(key)}(")
            lines += [f"    {k}={_q(v)}," for k, v in value.items()]
            lines.append(")")
    lines.append("")
    return "\n".join(lines)


def generate(ctx: GenContext) -> dict[str, str]:
    """Write `lint_rules.py` from `schemas/lifecycle.json`."""
    if SCHEMA not in ctx.schemas:
        raise SystemExit(f"schemas/{SCHEMA}.json is missing; trainer-lint's rules live there")
    return {"lint_rules.py": _render(ctx)}
