"""The example trainers: lint-clean, importable without their frameworks, Dockerfiles that
follow the guide's template, and dependencies that include everything trainer_sdk.py needs."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from trainer_contract.env import SECRET_ENV_VARS
from trainer_contract.validators import validator

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ("minimal", "ultralytics", "timm")
# The examples whose folder this area owns (the minimal one belongs to the dry-run area).
OWN_EXAMPLES = ("ultralytics", "timm")
HEAVY = ("ultralytics", "torch", "torchvision", "timm")


def _instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


@pytest.mark.parametrize("example", EXAMPLES)
def test_example_passes_trainer_lint(example: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "trainer_tools.trainer_lint.cli", f"examples/{example}/"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("example", EXAMPLES)
def test_example_imports_without_its_framework(example: str) -> None:
    code = (
        "import importlib.util, json, sys\n"
        f"spec = importlib.util.spec_from_file_location('train', 'examples/{example}/train.py')\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [], "heavy frameworks must be imported inside functions"


@pytest.mark.parametrize("example", EXAMPLES)
def test_dockerfile_follows_the_guide_template(example: str) -> None:
    steps = _instructions(ROOT / "examples" / example / "Dockerfile")
    last_from = max(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM")
    final = steps[last_from:]
    copies = [shlex.split(args) for keyword, args in final if keyword == "COPY"]
    assert ["trainer_sdk.py", "./"] in copies, "the bundled SDK must be in the image"
    assert ["train.py", "./"] in copies
    users = [args for keyword, args in final if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), "the image must not run as root"
    assert final[-1] == ("CMD", '["python", "train.py"]'), "the entry point is python train.py"
    for keyword, args in steps:
        if keyword in ("ENV", "ARG"):
            assert not any(secret in args for secret in SECRET_ENV_VARS), (keyword, args)


@pytest.mark.parametrize("example", EXAMPLES)
def test_example_dependencies_cover_the_sdk_runtime(example: str) -> None:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        runtime = tomllib.load(handle)["project"]["dependencies"]
    with (ROOT / "examples" / example / "pyproject.toml").open("rb") as handle:
        declared = tomllib.load(handle)["project"]["dependencies"]
    names = {Requirement(d).name.lower() for d in declared}
    assert {Requirement(d).name.lower() for d in runtime} <= names


@pytest.mark.parametrize("example", OWN_EXAMPLES)
def test_the_copied_bundle_is_not_committed(example: str) -> None:
    ignored = (ROOT / "examples" / example / ".gitignore").read_text().split()
    assert "trainer_sdk.py" in ignored, "the copied bundle is a build artefact"


@pytest.mark.parametrize("task", ["classification", "segmentation", "pose"])
def test_the_task_demo_datasets_are_valid_dice_and_convert(task: str, tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "examples" / "data"))
    try:
        import task_dataset
    finally:
        sys.path.pop(0)
    out = task_dataset.convert(task, tmp_path / "shapes")
    document = json.loads((out / f"annotations_{task}.json").read_text())
    assert validator("dice/annotations").errors(document) == []
    assert document["task_type"] == task
    from trainer_sdk.convert import convert_dataset

    if task == "classification":
        result = convert_dataset(out, "dice", "imagefolder", task_type=task)
        # torchvision's ImageFolder takes every sub-folder as a class (files are ignored).
        classes = {p.name for p in (Path(result.output_dir) / "train").iterdir() if p.is_dir()}
        assert classes == {c["name"] for c in document["classes"]}
        return
    result = convert_dataset(out, "dice", "yolo", task_type=task)
    images = len(document["images"])
    assert result.report.objects_kept == images  # one real object per image
    if task == "segmentation":
        # Every degenerate polygon the script adds (5 on every third image) is dropped.
        degenerate = 5 * len(range(0, images, 3))
        assert result.report.objects_dropped == {"zero_area": degenerate}
    else:
        assert result.report.objects_dropped == {}


@pytest.mark.parametrize("example", OWN_EXAMPLES)
def test_example_accepts_the_platforms_log_level_option(example: str) -> None:
    """The platform runs `python train.py --log-level INFO`."""
    code = (
        "import importlib.util\n"
        f"spec = importlib.util.spec_from_file_location('train', 'examples/{example}/train.py')\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "print(module.parse_args(['--log-level', 'INFO']).log_level,"
        " module.parse_args(['--log-level', 'debug']).log_level, module.parse_args([]).log_level)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["INFO", "DEBUG", "INFO"]
