"""`conversion_report.py`: DropReason and Adjustment (schemas/dice/conversion-report.json)."""

from __future__ import annotations

from typing import Any

from trainer_tools.codegen.context import GenContext


def _enum(schema: dict[str, Any]) -> list[str]:
    members: list[dict[str, Any]] = schema["x-enum-members"]
    if [m["value"] for m in members] != schema["enum"]:
        raise SystemExit(f"conversion-report.json {schema['title']}: x-enum-members != enum")
    lines = [f"class {schema['title']}(StrEnum):", f'    """{schema["description"]}"""', ""]
    for m in members:
        lines.append(f"    {m['name']} = {m['value']!r}")
        lines.append(f'    """{m["description"]}"""')
    return lines


def generate(ctx: GenContext) -> dict[str, str]:
    """Write the two enums of the conversion report."""
    defs = ctx.schemas["dice/conversion-report"]["$defs"]
    lines = [
        ctx.header(),
        '"""The vocabularies of the conversion report (dice/conversion-report.json)."""',
        "",
        "from __future__ import annotations",
        "",
        "from enum import StrEnum",
        "",
        '__all__ = ["Adjustment", "DropReason"]',
        "",
        "",
        *_enum(defs["drop_reason"]),
        "",
        "",
        *_enum(defs["adjustment"]),
        "",
    ]
    return {"conversion_report.py": "\n".join(lines)}
