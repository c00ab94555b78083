"""docs/reference/errors.md: ErrorType members, their deprecated aliases, and exit codes."""

from __future__ import annotations

from trainer_contract.error_type import ERROR_TYPE_ALIASES, ERROR_TYPE_DESCRIPTIONS, ErrorType
from trainer_contract.exit_codes import EXIT_CODE_DESCRIPTIONS, ExitCode
from trainer_tools.docs.markdown import code, page, table
from trainer_tools.docs.schema_text import SchemaIndex

FILE = "errors.md"
TITLE = "ErrorType and exit codes"


def render(index: SchemaIndex) -> str:
    """The page text."""
    members = table(
        ["member", "wire value", "use"],
        [
            [code(f"ErrorType.{member.name}"), code(member.value), description]
            for member, description in ERROR_TYPE_DESCRIPTIONS.items()
        ],
    )
    alias_schema = {a["name"]: a for a in index.documents["error-type"].get("x-enum-aliases", [])}
    aliases = table(
        ["deprecated name", "same as", "why it exists"],
        [
            [
                code(f"ErrorType.{name}"),
                code(f"ErrorType.{target.name}"),
                alias_schema.get(name, {}).get("description", ""),
            ]
            for name, target in ERROR_TYPE_ALIASES.items()
        ],
    )
    codes = table(
        ["exit code", "name", "meaning"],
        [
            [code(str(int(c))), code(f"ExitCode.{c.name}"), EXIT_CODE_DESCRIPTIONS[c]]
            for c in ExitCode
        ],
    )
    example = next(iter(ErrorType))
    sections = [
        f"## ErrorType\n\n{code('from trainer_sdk import ErrorType')}; members compare equal "
        f"to their wire value ({code(f'ErrorType.{example.name} == {example.value!r}')}).\n\n"
        + members,
        "## Deprecated aliases\n\n" + aliases,
        f"## Exit codes\n\n{index.documents['exit-codes'].get('description', '')}\n\n" + codes,
    ]
    return page(TITLE, index.documents["error-type"]["description"], sections)
