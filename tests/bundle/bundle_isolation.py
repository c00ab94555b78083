"""Run Python code beside the bundle in an interpreter that sees only the runtime dependencies."""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement

# Put the app folder and the runtime-only site first, after `-I -S` removed every site-packages
# folder and the editable project paths (`-S` skips the .pth files that add them).
_PRELUDE = """
import sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
del sys.argv[1:3]
"""


def run_isolated(
    code: str, app: Path, site: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `code` with cwd `app`; `sys.path` is app, site, then the standard library."""
    environment = {"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8", **(env or {})}
    return subprocess.run(
        [sys.executable, "-I", "-S", "-c", _PRELUDE + code, str(app), str(site), *args],
        cwd=app,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def run_json(code: str, app: Path, site: Path, **kwargs: Any) -> Any:
    """Run `code`, which prints one JSON document last; return it (fail loudly otherwise)."""
    done = run_isolated(code, app, site, **kwargs)
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def distribution_closure(project: str) -> list[importlib.metadata.Distribution]:
    """The installed distributions `project` needs at run time (no extras), transitively."""
    found: dict[str, importlib.metadata.Distribution] = {}
    pending = [project]
    while pending:
        name = pending.pop()
        key = name.lower().replace("_", "-")
        if key in found:
            continue
        dist = importlib.metadata.distribution(name)
        found[key] = dist
        for line in dist.requires or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                pending.append(requirement.name)
    return [dist for key, dist in sorted(found.items()) if key != project]
