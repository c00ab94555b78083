"""Task names: the canonical ones and their long aliases, both read from the contract."""

from __future__ import annotations

from trainer_contract.config import DICE_TASKS, TASK_TYPE_ALIASES, TASK_TYPES
from trainer_sdk.errors import ConfigError

__all__ = ["canonical_task", "task_file_names"]


def canonical_task(name: object, *, where: str) -> str:
    """`object_detection` -> `detection`; a canonical name stays; anything else is a ConfigError,
    and so is a task the platform knows but DICE conversion does not (semantic_segmentation, ...).

    `where` names the origin of the value (an argument, `TASK_TYPE`, a file's `task_type`).
    """
    if isinstance(name, str):
        key = name.strip().lower()
        task = TASK_TYPE_ALIASES.get(key, key)
        if task in DICE_TASKS:
            return task
        if task in TASK_TYPES:
            raise ConfigError(
                f"{where} is {name!r}: dataset conversion handles {', '.join(DICE_TASKS)}; "
                f"convert a {task} dataset with the framework's own tools."
            )
    accepted = ", ".join([*TASK_TYPES, *TASK_TYPE_ALIASES])
    raise ConfigError(f"{where} is {name!r}, which is not a task: use one of {accepted}.")


def task_file_names(task: str) -> list[str]:
    """Annotation file names of a task, best first: `annotations_detection.json`, the same under
    each long alias (`annotations_object_detection.json`), then the pre-task `annotations.json`."""
    names = [f"annotations_{task}.json"]
    names += [f"annotations_{alias}.json" for alias, t in TASK_TYPE_ALIASES.items() if t == task]
    names.append("annotations.json")
    return names
