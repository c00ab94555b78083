"""docs/reference/config.md: the CONFIG keys, get_basic_config() and the task names."""

from __future__ import annotations

import json

from trainer_contract.config import (
    ADVANCED_CONFIG_KEY,
    BASIC_CONFIG_KEYS,
    BASIC_KEY_TO_CONFIG_KEY,
    BASIC_KEY_TO_ENV_VAR,
    CONFIG_DEFAULTS,
    TASK_TYPE_ALIASES,
    TASK_TYPES,
)
from trainer_contract.env import ENV_VARS
from trainer_tools.docs.markdown import code, json_value, page, table
from trainer_tools.docs.schema_text import SchemaIndex

FILE = "config.md"
TITLE = "Training configuration (CONFIG)"


def render(index: SchemaIndex) -> str:
    """The page text."""
    schema = index.documents["config"]
    base = schema["$id"]
    env_of_key = {v.config_key: v.name for v in ENV_VARS.values() if v.config_key}
    basic_of_key = {config: basic for basic, config in BASIC_KEY_TO_CONFIG_KEY.items()}
    rows = []
    for key, prop in schema["properties"].items():
        rows.append(
            [
                code(key),
                index.type_text(prop, base),
                json_value(CONFIG_DEFAULTS[key]) if key in CONFIG_DEFAULTS else "(none)",
                code(env_of_key[key]) if key in env_of_key else "",
                code(basic_of_key[key]) if key in basic_of_key else "",
                prop.get("description", ""),
            ]
        )
    keys = table(
        ["key", "type", "default", "environment variable", "basic key", "description"], rows
    )
    basic_rows = [
        [
            code(basic),
            code(BASIC_KEY_TO_CONFIG_KEY[basic]),
            code(BASIC_KEY_TO_ENV_VAR[basic]),
            json_value(CONFIG_DEFAULTS[BASIC_KEY_TO_CONFIG_KEY[basic]]),
        ]
        for basic in BASIC_CONFIG_KEYS
    ]
    basic = table(["basic key", "CONFIG key", "environment variable", "default"], basic_rows)
    defs = schema.get("$defs", {})
    results = [
        f"- `get_basic_config()`: {defs['basic_config']['description']}"
        if "basic_config" in defs
        else "",
        f"- `get_advanced_config()`: {code('CONFIG.' + ADVANCED_CONFIG_KEY)} as-is "
        f"(fallback: {code('ADVANCED_CONFIG')}).",
        f"- `get_full_config()`: {defs['full_config']['description']}"
        if "full_config" in defs
        else "",
    ]
    tasks = table(
        ["task name", "canonical name"],
        [[code(t), code(t)] for t in TASK_TYPES]
        + [[code(alias), code(target)] for alias, target in TASK_TYPE_ALIASES.items()],
    )
    example = schema.get("examples", [])
    sections = [
        "## Keys\n\n" + keys,
        "## get_basic_config()\n\n" + "\n".join(line for line in results if line) + "\n\n" + basic,
        "## Task names\n\n"
        + f"Callbacks carry the canonical name; {code('TASK_TYPE')} and `task_type` arguments "
        "accept every name below.\n\n" + tasks,
    ]
    if example:
        sections.append(
            "## Example\n\n```json\n"
            + json.dumps(example[-1], indent=2, ensure_ascii=False)
            + "\n```"
        )
    return page(TITLE, schema["description"], sections)
