"""`error_type.py` and `exit_codes.py`: enums from schemas with an `x-enum-members` table."""

from __future__ import annotations

from typing import Any

from trainer_tools.codegen.context import GenContext


def _members(ctx: GenContext, name: str) -> list[dict[str, Any]]:
    schema = ctx.schemas[name]
    members: list[dict[str, Any]] = schema["x-enum-members"]
    values = [m["value"] for m in members]
    if values != schema["enum"]:
        raise SystemExit(
            f"schemas/{name}.json: x-enum-members values {values} != enum {schema['enum']}"
        )
    return members


def _error_type(ctx: GenContext) -> str:
    schema = ctx.schemas["error-type"]
    members = _members(ctx, "error-type")
    aliases: list[dict[str, Any]] = schema.get("x-enum-aliases", [])
    lines = [
        ctx.header(),
        f'"""{schema["title"]}: {schema["description"]}"""',
        "",
        "from __future__ import annotations",
        "",
        "import difflib",
        "from enum import StrEnum",
        "",
        "__all__ = [",
        '    "ERROR_TYPE_ALIASES",',
        '    "ERROR_TYPE_DESCRIPTIONS",',
        '    "ERROR_TYPE_SPELLINGS",',
        '    "ErrorType",',
        '    "parse_error_type",',
        '    "suggest_error_type",',
        "]",
        "",
        "",
        "class ErrorType(StrEnum):",
        f'    """{schema["title"]}: compare with the wire value, ErrorType.DATASET_ERROR == "DatasetError"."""',
        "",
    ]
    for m in members:
        lines.append(f"    {m['name']} = {m['value']!r}")
        lines.append(f'    """{m["description"]}"""')
    for a in aliases:
        target = next(m for m in members if m["name"] == a["target"])
        lines.append(f"    {a['name']} = {target['value']!r}")
        lines.append(f'    """Deprecated alias of {a["target"]}. {a["description"]}"""')
    lines += ["", "", "ERROR_TYPE_DESCRIPTIONS: dict[ErrorType, str] = {"]
    for m in members:
        lines.append(f"    ErrorType.{m['name']}: {m['description']!r},")
    lines += [
        "}",
        "",
        "# Deprecated member names that are aliases of real members (see the schema).",
    ]
    lines.append("ERROR_TYPE_ALIASES: dict[str, ErrorType] = {")
    for a in aliases:
        lines.append(f"    {a['name']!r}: ErrorType.{a['target']},")
    lines += [
        "}",
        "",
        "# Every string the SDK accepts for an ErrorType, and trainer-lint with it: the wire values,",
        "# and the member and alias names (also in any case: `resource_error`).",
        "ERROR_TYPE_SPELLINGS: dict[str, ErrorType] = {",
    ]
    for m in members:
        lines.append(f"    {m['value']!r}: ErrorType.{m['name']},")
    for m in members:
        lines.append(f"    {m['name']!r}: ErrorType.{m['name']},")
    for a in aliases:
        lines.append(f"    {a['name']!r}: ErrorType.{a['target']},")
    lines += [
        "}",
        "",
        "",
        "def parse_error_type(text: str) -> ErrorType | None:",
        '    """The member a string names (a wire value, or a member or alias name in any case)."""',
        "    return ERROR_TYPE_SPELLINGS.get(text) or ERROR_TYPE_SPELLINGS.get(text.upper())",
        "",
        "",
        "def suggest_error_type(text: str) -> str:",
        '    """`ErrorType.X`, the member to write instead of `text` (the closest, for a typo)."""',
        "    member = parse_error_type(text)",
        "    if member is None:",
        "        names = [m.name for m in ErrorType]",
        "        upper = text.upper().replace(' ', '_').replace('-', '_')",
        "        close = difflib.get_close_matches(upper, list(ERROR_TYPE_SPELLINGS), n=1, cutoff=0.75)",
        "        member = ERROR_TYPE_SPELLINGS[close[0]] if close else ErrorType[names[-1]]",
        "    return f'ErrorType.{member.name}'",
        "",
    ]
    return "\n".join(lines)


def _exit_codes(ctx: GenContext) -> str:
    schema = ctx.schemas["exit-codes"]
    members = _members(ctx, "exit-codes")
    lines = [
        ctx.header(),
        f'"""{schema["title"]}: {schema["description"]}"""',
        "",
        "from __future__ import annotations",
        "",
        "from enum import IntEnum",
        "",
        '__all__ = ["EXIT_CODE_DESCRIPTIONS", "ExitCode"]',
        "",
        "",
        "class ExitCode(IntEnum):",
        '    """The exit codes a training container may use."""',
        "",
    ]
    for m in members:
        lines.append(f"    {m['name']} = {m['value']!r}")
        lines.append(f'    """{m["description"]}"""')
    lines += ["", "", "EXIT_CODE_DESCRIPTIONS: dict[ExitCode, str] = {"]
    for m in members:
        lines.append(f"    ExitCode.{m['name']}: {m['description']!r},")
    lines += ["}", ""]
    return "\n".join(lines)


def generate(ctx: GenContext) -> dict[str, str]:
    """Write the two enum modules."""
    return {"error_type.py": _error_type(ctx), "exit_codes.py": _exit_codes(ctx)}
