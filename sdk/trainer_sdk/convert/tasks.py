"""Task names: the canonical ones and their long aliases, both read from the contract."""

from __future__ import annotations

from trainer_contract.config import TASK_TYPE_ALIASES, TASK_TYPES
from trainer_sdk.errors import ConfigError

__all__ = ["canonical_task", "task_file_names"]


def canonical_task(name: object, *, where: str) -> str:
    """`object_detection` -> `detection`; a canonical name stays; anything else is a ConfigError.

    `where` names the origin of the value (an argument, `TASK_TYPE`, a file's `task_type`).
    """
    if isinstance(name, str):
        key = name.strip().lower()
        if key in TASK_TYPES:
            return key
        if key in TASK_TYPE_ALIASES:
            return TASK_TYPE_ALIASES[key]
    accepted = ", ".join([*TASK_TYPES, *TASK_TYPE_ALIASES])
    raise ConfigError(f"{where} is {name!r}, which is not a task: use one of {accepted}.")


def task_file_names(task: str) -> list[str]:
    """Annotation file names of a task, best first: `annotations_detection.json`, the same under
    each long alias (`annotations_object_detection.json`), then the pre-task `annotations.json`."""
    names = [f"annotations_{task}.json"]
    names += [f"annotations_{alias}.json" for alias, t in TASK_TYPE_ALIASES.items() if t == task]
    names.append("annotations.json")
    return names
