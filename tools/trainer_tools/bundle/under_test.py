"""Run a test suite against the single-file SDK: `TRAINER_SDK_BUNDLE=dist/trainer_sdk.py pytest`.

`tests/conftest.py` imports this module before anything imports the SDK. When the variable is
set, the bundle is loaded as the `trainer_sdk` module, so every `import trainer_sdk...` and
`import trainer_contract...` of the tests (and of the tools they use) gets the bundled code
instead of the installed packages. Unset, this module does nothing.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

ENV_VAR = "TRAINER_SDK_BUNDLE"
_BUNDLED_ROOTS = ("trainer_sdk", "trainer_contract")


def load_bundle(path: Path) -> ModuleType:
    """Import the bundle file at `path` as `trainer_sdk` (and its embedded `trainer_contract`)."""
    if not path.is_file():
        raise RuntimeError(
            f"{ENV_VAR}={path}: no such file; build it with `make bundle` "
            f"(python -m trainer_tools.bundle) or unset {ENV_VAR}"
        )
    already = sorted(name for name in sys.modules if name.split(".")[0] in _BUNDLED_ROOTS)
    if already:
        raise RuntimeError(
            f"{ENV_VAR} is set but {', '.join(already[:3])} was imported before the bundle; "
            f"import trainer_tools.bundle.under_test first (at the top of tests/conftest.py)"
        )
    spec = importlib.util.spec_from_file_location("trainer_sdk", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"{ENV_VAR}={path}: Python cannot load this file as a module")
    module = importlib.util.module_from_spec(spec)
    sys.modules["trainer_sdk"] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        for name in [n for n in sys.modules if n.split(".")[0] in _BUNDLED_ROOTS]:
            del sys.modules[name]
        raise
    return module


def bundle_from_environment() -> ModuleType | None:
    """The loaded bundle when `TRAINER_SDK_BUNDLE` names one, else None."""
    value = os.environ.get(ENV_VAR, "").strip()
    return load_bundle(Path(value).resolve()) if value else None


BUNDLE = bundle_from_environment()
