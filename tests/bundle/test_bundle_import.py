"""The bundle imports and works with only the runtime dependencies, like in a trainer image."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

from bundle_isolation import run_isolated, run_json

from trainer_contract.callbacks import ENDPOINTS
from trainer_contract.error_type import ErrorType
from trainer_contract.validators import validator
from trainer_tools.bundle.sources import collect_sources

ROOT = Path(__file__).resolve().parents[2]

_IMPORT_EVERYTHING = """
import importlib, json, sys
import trainer_sdk
from trainer_sdk import TrainerSDK, ErrorType
names = json.loads(sys.argv[1])
for name in names:
    importlib.import_module(name)
blocked = []
for name in ("trainer_tools", "starlette", "pytest", "jsonschema"):
    try:
        importlib.import_module(name)
    except ModuleNotFoundError:
        blocked.append(name)
files = {name: getattr(sys.modules[name], "__file__", None) for name in names}
print(json.dumps({
    "sdk_file": trainer_sdk.__file__,
    "files": files,
    "all": sorted(trainer_sdk.__all__),
    "dir": sorted(n for n in dir(trainer_sdk) if not n.startswith("__")),
    "error_type": {m.name: m.value for m in ErrorType},
    "version": trainer_sdk.__version__,
    "blocked": blocked,
    "path": sys.path,
}))
"""


def test_every_module_imports_from_the_bundle_alone(app_dir: Path, runtime_site: Path) -> None:
    names = [module.name for module in collect_sources(ROOT).modules]
    done = run_isolated(_IMPORT_EVERYTHING, app_dir, runtime_site, json.dumps(names))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    bundle = str(app_dir / "trainer_sdk.py")
    assert result["sdk_file"] == bundle
    # Every module, trainer_contract's included, comes from inside the one file.
    assert set(result["files"]) == set(names)
    for name, file in result["files"].items():
        assert file is not None and file.startswith(bundle), (name, file)
    # Nothing of the project, the tools or the dev dependencies is reachable.
    assert result["blocked"] == ["trainer_tools", "starlette", "pytest", "jsonschema"]
    assert not [p for p in result["path"] if p.startswith(str(ROOT))]
    assert {"TrainerSDK", "ErrorType"} <= set(result["all"])
    assert result["error_type"] == {m.name: m.value for m in ErrorType}
    # The version (sent in every callback's User-Agent) is the project's, not "unknown".
    with (ROOT / "pyproject.toml").open("rb") as handle:
        assert result["version"] == tomllib.load(handle)["project"]["version"]


def test_the_bundle_exposes_what_the_installed_package_does(
    app_dir: Path, runtime_site: Path
) -> None:
    code = """
import json, trainer_sdk
print(json.dumps([sorted(trainer_sdk.__all__), sorted(set(dir(trainer_sdk)))]))
"""
    bundled_all, bundled_dir = run_json(code, app_dir, runtime_site)
    # The installed package, freshly imported too (this process may have imported submodules).
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    installed_all, installed_dir = json.loads(done.stdout)
    assert bundled_all == installed_all
    # `_bundle` (the importer) is the bundle's only addition; nothing of the package is missing.
    assert set(bundled_dir) - set(installed_dir) == {"_bundle"}
    assert set(installed_dir) - set(bundled_dir) <= {"__cached__"}


def test_contract_data_files_and_validators_work_inside_the_bundle(
    app_dir: Path, runtime_site: Path
) -> None:
    code = """
import json
import trainer_sdk
from importlib import resources
from trainer_contract import openapi
from trainer_contract.validators import validator
schemas = resources.files("trainer_contract") / "schemas"
env_schema = json.loads((schemas / "env.json").read_text())
errors = validator("callbacks/progress").errors({"job_id": "x"})
print(json.dumps({
    "openapi": openapi.load()["openapi"],
    "listing": sorted(p.name for p in schemas.iterdir()),
    "env_title": env_schema["title"],
    "errors": [e.path for e in errors],
    "typed": (resources.files("trainer_sdk") / "py.typed").is_file(),
}))
"""
    result = run_json(code, app_dir, runtime_site)
    shipped = ROOT / "generated" / "trainer_contract"
    assert result["openapi"] == json.loads((shipped / "openapi.json").read_text())["openapi"]
    assert result["listing"] == sorted(p.name for p in (shipped / "schemas").iterdir())
    assert (
        result["env_title"] == json.loads((shipped / "schemas" / "env.json").read_text())["title"]
    )
    assert "$.job_id" in result["errors"]
    assert result["typed"] is True


def test_tracebacks_show_the_embedded_source_line(app_dir: Path, runtime_site: Path) -> None:
    # traceback.format_exc() is what trainers pass to report_failed; it must show real code.
    code = """
import traceback
import trainer_sdk
from trainer_contract.validators import validator
try:
    validator("no/such-schema")
except KeyError:
    print(traceback.format_exc())
"""
    done = run_isolated(code, app_dir, runtime_site)
    assert done.returncode == 0, done.stderr
    where = f'"{app_dir / "trainer_sdk.py"}/trainer_contract/validators.py", line '
    assert where in done.stdout
    # linecache reads the line through the bundle's loader.
    assert "raise KeyError(" in done.stdout
    assert "unknown schema 'no/such-schema'" in done.stdout


def test_a_trainer_runs_its_whole_lifecycle_on_the_bundle(
    app_dir: Path, runtime_site: Path, tmp_path: Path
) -> None:
    train = """
import json, sys
from trainer_sdk import TrainerSDK, ErrorType
sdk = TrainerSDK()
try:
    epochs = sdk.get_basic_config()["epochs"]
    sdk.report_started("training", total_epochs=epochs)
    for epoch in range(1, epochs + 1):
        sdk.report_progress(epoch, epochs, {"loss": 1.0 / epoch, "mAP50": 0.1 * epoch})
    sdk.report_completed({"loss": 0.5}, {}, epochs)
finally:
    sdk.close()
"""
    callbacks = tmp_path / "callbacks.jsonl"
    env = {
        "JOB_ID": "41",
        "CALLBACK_URL": callbacks.as_uri(),
        "EPOCHS": "2",
        "WORK_DIR": str(tmp_path / "workspace"),
        "TMP_DIR": str(tmp_path),
    }
    done = run_isolated(train, app_dir, runtime_site, env=env)
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in callbacks.read_text().splitlines()]
    bodies = [record["body"] for record in records]
    assert bodies[0]["status"] == "running" and bodies[0]["current_epoch"] == 0
    assert bodies[-1]["status"] == "completed" and bodies[-1]["total_epochs_completed"] == 2
    assert {body["job_id"] for body in bodies} == {41}
    for record in records:
        # What the bundled SDK sent is valid for the installed contract too.
        schemas = ENDPOINTS[record["endpoint"]].bodies
        assert any(validator(name).is_valid(record["body"]) for name in schemas), record


def test_importing_under_another_name_says_how_to_fix_it(
    app_dir: Path, runtime_site: Path, tmp_path: Path
) -> None:
    other = tmp_path / "sdk_copy.py"
    other.write_text((app_dir / "trainer_sdk.py").read_text())
    done = run_isolated("import sdk_copy", tmp_path, runtime_site)
    assert done.returncode == 1
    assert "must be imported as 'trainer_sdk'" in done.stderr
    assert "name the file trainer_sdk.py" in done.stderr


def test_running_the_file_describes_it(app_dir: Path, runtime_site: Path) -> None:
    done = run_isolated(
        "import runpy; runpy.run_path('trainer_sdk.py', run_name='__main__')", app_dir, runtime_site
    )
    assert done.returncode == 0, done.stderr
    assert "trainer-sdk" in done.stdout and "in one file" in done.stdout
    assert "pip install" in done.stdout and "httpx" in done.stdout
