"""The package's `__init__.py` and `py.typed` marker."""

from __future__ import annotations

from trainer_tools.codegen.context import GenContext


def generate(ctx: GenContext) -> dict[str, str]:
    """Write the package marker files."""
    names = ", ".join(sorted(ctx.schemas))
    init = (
        ctx.header()
        + '"""The platform contract, compiled from schemas/ (never edit by hand).\n\n'
        + f"Schemas: {names}.\n"
        + '"""\n'
    )
    return {"__init__.py": init, "py.typed": ""}
