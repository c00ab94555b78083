"""The demo dataset shipped with the tools: a tiny DICE detection dataset (`ds_demo_shapes`).

In a wheel it is package data (`trainer_tools/demo_data`, force-included from the project's
`examples/data` at build time: one copy in the repository); in the project it is `examples/data`.
`trainer-sdk dry-run train.py` without `--dataset` uploads it, so a new trainer can be dry-run
before the user has a dataset of their own.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["demo_dataset"]

_PACKAGED = "demo_data"
_IN_PROJECT = Path(__file__).resolve().parents[3] / "examples" / "data"


def demo_dataset() -> Path | None:
    """The demo dataset's folder, or None when this installation has none."""
    packaged = resources.files("trainer_tools") / _PACKAGED
    if packaged.is_dir():
        return Path(str(packaged))
    return _IN_PROJECT if _IN_PROJECT.is_dir() else None
