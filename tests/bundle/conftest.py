"""Fixtures of the bundle tests: a fresh bundle and a site folder with only the runtime deps."""

from __future__ import annotations

from pathlib import Path

import pytest
from bundle_isolation import distribution_closure as _distribution_closure

from trainer_tools.bundle.__main__ import build

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def bundle_text() -> str:
    """The bundle built from the current sources."""
    return build(ROOT)


@pytest.fixture(scope="session")
def app_dir(tmp_path_factory: pytest.TempPathFactory, bundle_text: str) -> Path:
    """A folder laid out like a trainer image's /app: trainer_sdk.py and nothing else."""
    app = tmp_path_factory.mktemp("app")
    (app / "trainer_sdk.py").write_text(bundle_text, encoding="utf-8")
    return app


@pytest.fixture(scope="session")
def runtime_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A site-packages folder holding only trainer-sdk's runtime dependencies (symlinks).

    The bundle must import with these alone: not the editable project paths, not the tools'
    or tests' packages.
    """
    site = tmp_path_factory.mktemp("runtime-site")
    for dist in _distribution_closure("trainer-sdk"):
        for entry in dist.files or []:
            top = entry.parts[0]
            if top in ("..", "__pycache__") or top.endswith((".dist-info", ".pth")):
                continue
            link = site / top
            if not link.exists():
                link.symlink_to(Path(str(dist.locate_file(top))))
    return site
