"""All reference pages, file name -> text."""

from __future__ import annotations

from trainer_tools.docs.pages import (
    callbacks,
    config,
    dice,
    environment,
    errors,
    index,
    sdk_api,
)
from trainer_tools.docs.schema_text import SchemaIndex

PAGES = (index, environment, config, callbacks, sdk_api, errors, dice)


def render_pages() -> dict[str, str]:
    """Every page of docs/reference/, keyed by file name, in a fixed order."""
    schemas = SchemaIndex()
    return {page.FILE: page.render(schemas) for page in PAGES}
