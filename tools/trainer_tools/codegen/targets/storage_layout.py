"""`storage_layout.py`: the key templates of the two buckets (schemas/storage-layout.json)."""

from __future__ import annotations

import re

from trainer_tools.codegen.context import GenContext

_NAMES = {
    "dataset_prefix": "DATASET_PREFIX",
    "images_folder": "IMAGES_FOLDER",
    "annotation_file": "ANNOTATION_FILE",
    "legacy_annotation_file": "LEGACY_ANNOTATION_FILE",
    "annotation_file_pattern": "ANNOTATION_FILE_PATTERN",
    "metadata_file": "METADATA_FILE",
    "checkpoint_key": "CHECKPOINT_KEY",
}


def generate(ctx: GenContext) -> dict[str, str]:
    """Write the layout constants (templates use str.format fields)."""
    schema = ctx.schemas["storage-layout"]
    layout: dict[str, str] = schema["x-layout"]
    if set(layout) != set(_NAMES):
        raise SystemExit(f"storage-layout.json x-layout keys must be {sorted(_NAMES)}")
    pattern = re.compile(layout["annotation_file_pattern"])
    for name in (layout["legacy_annotation_file"], layout["annotation_file"].format(task="pose")):
        if not pattern.match(name):
            raise SystemExit(
                f"storage-layout.json: {name!r} does not match annotation_file_pattern"
            )
    lines = [
        ctx.header(),
        '"""Bucket layout (storage-layout.json `x-layout`): key templates for str.format."""',
        "",
        "from __future__ import annotations",
        "",
        "__all__ = " + repr(sorted(_NAMES.values())),
        "",
    ]
    for key, const in _NAMES.items():
        lines.append(f"{const} = {layout[key]!r}")
    lines.append("")
    return {"storage_layout.py": "\n".join(lines)}
