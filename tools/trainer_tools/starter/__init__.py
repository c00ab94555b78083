"""`trainer-sdk init`: the starter files of a new trainer (train.py, Dockerfile, pyproject.toml).

The files follow the user's guide's template with its traps fixed (no `# note` after `COPY`, no
file copied "if present", `libgl1` instead of `libgl1-mesa-glx`), and `train.py` uses `run(main)`
so that every exit code is the contract's. They pass `trainer-lint` and `trainer-sdk dry-run`
unchanged (tests/integration/test_wheel_user_guide.py). The runtime dependencies written into
pyproject.toml are the installed trainer-sdk's own (`importlib.metadata`), never a copy.
"""

from __future__ import annotations

import re
from importlib import metadata, resources
from pathlib import Path

__all__ = ["STARTER_FILES", "InitError", "runtime_dependencies", "write_starter"]

STARTER_FILES = ("train.py", "Dockerfile", "pyproject.toml")
_DISTRIBUTION = "trainer-sdk"


class InitError(RuntimeError):
    """The starter could not be written (files exist, folder not writable)."""


def runtime_dependencies() -> list[str]:
    """The requirements of the installed trainer-sdk without extras (what trainer_sdk.py needs)."""
    found = []
    for requirement in metadata.requires(_DISTRIBUTION) or []:
        if "extra ==" in requirement.replace('"', "").replace("'", ""):
            continue
        found.append(requirement.split(";", 1)[0].strip())
    return found


def _render(name: str, project: str) -> str:
    text = (resources.files(__package__) / f"{name}.template").read_text(encoding="utf-8")
    dependencies = "".join(f'    "{d}",\n' for d in runtime_dependencies())
    return text.replace("{{project}}", project).replace("{{dependencies}}", dependencies)


def write_starter(folder: Path, *, force: bool = False) -> list[Path]:
    """Write the starter files into `folder` (created if needed); returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    existing = [folder / n for n in STARTER_FILES if (folder / n).exists()]
    if existing and not force:
        names = ", ".join(p.name for p in existing)
        raise InitError(f"{folder}: {names} already exist; pass --force to overwrite them")
    project = re.sub(r"[^a-z0-9-]+", "-", folder.resolve().name.lower()).strip("-") or "trainer"
    written = []
    for name in STARTER_FILES:
        path = folder / name
        path.write_text(_render(name, project), encoding="utf-8")
        written.append(path)
    return written
