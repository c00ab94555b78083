"""`validators.py`, `_schema_data.py` and `schemas/`: the schemas as shipped, and their validators."""

from __future__ import annotations

import json
from pathlib import Path

from trainer_tools.codegen.context import GenContext, dump_json

_RUNTIME = Path(__file__).resolve().parent.parent / "templates" / "validators_runtime.py"


def generate(ctx: GenContext) -> dict[str, str]:
    """Write the schema copies, the embedded schema data and the validator runtime."""
    note = ctx.header("").replace("\n ", " ").strip()
    files = {
        f"schemas/{name}.json": dump_json({"$comment": note, **doc})
        for name, doc in ctx.schemas.items()
    }
    ids = {name: ctx.schema_id(name) for name in ctx.schemas}
    compact = json.dumps(ctx.schemas, separators=(",", ":"), ensure_ascii=True, sort_keys=True)
    files["_schema_data.py"] = (
        ctx.header()
        + '"""Every contract schema, embedded so that validators need no data files."""\n\n'
        + "from __future__ import annotations\n\n"
        + "# Schema name (path under schemas/ without .json) -> $id.\n"
        + f"SCHEMA_IDS: dict[str, str] = {ids!r}\n\n"
        + "# Every schema document, as one JSON text (parsed lazily by validators.py).\n"
        + f"SCHEMAS_JSON = {compact!r}\n"
    )
    files["validators.py"] = ctx.header() + _RUNTIME.read_text(encoding="utf-8")
    return files
