"""Reference docs from the schemas: `python -m trainer_tools.docs [--check]` writes docs/reference/.

Every environment variable, CONFIG key, callback endpoint and payload field, SDK method and
ErrorType member, in Markdown tables, read from the generated package `trainer_contract` (never
restated). Deterministic: the same schemas give the same bytes; `--check` fails on drift, like
the generated code. The lint rules page (docs/rules.md) is the linter's and is linked, not copied.
"""

from __future__ import annotations

from trainer_tools.docs.render import render_pages

__all__ = ["render_pages"]
