"""docs/reference/environment.md: every environment variable of the contract, by group."""

from __future__ import annotations

from trainer_contract.env import ENV_VARS, EnvVar
from trainer_tools.docs.markdown import code, json_value, page, table
from trainer_tools.docs.schema_text import SchemaIndex

FILE = "environment.md"
TITLE = "Environment variables"


def _default(var: EnvVar) -> str:
    if var.required:
        return "(required)"
    return "(none)" if var.default is None else json_value(var.default)


def _notes(var: EnvVar) -> str:
    notes = []
    if var.secret:
        notes.append("**secret**: never logged; a Kubernetes Secret supplies it")
    if var.config_key:
        notes.append(f"overrides {code('CONFIG.' + var.config_key)}")
    if var.basic_key:
        notes.append(f"fills {code(var.basic_key)} of `get_basic_config()`")
    if var.pattern:
        notes.append(f"must match {code(var.pattern)}")
    return "; ".join(notes)


def render(index: SchemaIndex) -> str:
    """The page text."""
    groups: dict[str, list[EnvVar]] = {}
    for var in ENV_VARS.values():
        groups.setdefault(var.group, []).append(var)
    summary = table(
        ["group", "variables"],
        [[g, ", ".join(code(v.name) for v in vs)] for g, vs in groups.items()],
    )
    sections = [summary]
    for group, variables in groups.items():
        rows = [[code(v.name), v.type, _default(v), v.description, _notes(v)] for v in variables]
        sections.append(
            f"## {group}\n\n" + table(["variable", "type", "default", "description", "notes"], rows)
        )
    intro = (
        f"{index.documents['env']['description']}\n\n"
        f"Required: {', '.join(code(v.name) for v in ENV_VARS.values() if v.required)}. "
        f"{len(ENV_VARS)} variables in {len(groups)} groups. A value of the wrong type is a "
        "configuration error naming the variable, never a silent default."
    )
    return page(TITLE, intro, sections)
