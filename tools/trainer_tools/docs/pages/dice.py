"""docs/reference/dice.md: the DICE annotation file and the split settings of a conversion."""

from __future__ import annotations

from trainer_tools.docs.markdown import page, table
from trainer_tools.docs.schema_text import SchemaIndex

FILE = "dice.md"
TITLE = "DICE datasets"


def _fields(index: SchemaIndex, name: str, with_default: bool = False) -> str:
    schema = index.documents[name]
    header = ["field", "type", "required", "description"] + (["default"] if with_default else [])
    rows = [
        [f"`{f.path}`", f.type, "yes" if f.required else "", f.description]
        + ([f.default] if with_default else [])
        for f in index.fields(schema, schema["$id"])
    ]
    return table(header, rows)


def render(index: SchemaIndex) -> str:
    """The page text."""
    annotations = index.documents["dice/annotations"]
    split = index.documents["dice/split-config"]
    sections = [
        "## The annotation file (`dice/annotations`)\n\n"
        "The fields of an annotation, of a class and of an image are the same in both layouts; "
        "`annotations[]` lists them for the flat layout, `images[].annotations` holds the same "
        "objects in the nested one.\n\n" + _fields(index, "dice/annotations"),
        "## Split settings (`split_config` of `convert_dataset`)\n\n"
        f"{split.get('description', '')}\n\n" + _fields(index, "dice/split-config", True),
    ]
    return page(TITLE, annotations.get("description", ""), sections)
