"""The single-file SDK: `python -m trainer_tools.bundle` writes `dist/trainer_sdk.py`.

The user's guide tells trainer authors to copy one `trainer_sdk.py` into their image. The bundle
is that file: every module of `trainer_sdk` and `trainer_contract` (validators, models, the
schemas) embedded as source, plus a small importer (`runtime`) that serves them, so that the file
needs only the runtime dependencies. The output is deterministic: the same sources give the same
bytes, and `--check` fails when `dist/trainer_sdk.py` is not what the current sources give.

`dist/` is not committed (it is a build output, in .gitignore, like a wheel): a committed copy
would go stale with every SDK or schema change and double every diff. The tests build the bundle
from the current sources into a temporary folder, prove that two builds are byte-identical and
that every source file is embedded exactly, import it with only the runtime dependencies, and run
the SDK test suite against it (`TRAINER_SDK_BUNDLE`, see `under_test`).
"""

from __future__ import annotations

from trainer_tools.bundle.render import render_bundle
from trainer_tools.bundle.sources import BundleSources, collect_sources

__all__ = ["BundleSources", "collect_sources", "render_bundle"]
