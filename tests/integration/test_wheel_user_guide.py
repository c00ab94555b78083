"""docs/user-guide.md from a wheel install, outside the checkout, as a new user walks it.

Builds the wheel (`pip wheel --no-deps .`; hatchling comes from PyPI), installs
`trainer-sdk[tools]` from that file into a fresh venv (dependencies from PyPI, or pip's cache),
then, in an empty folder that is not the project: `trainer-sdk init`, `trainer-lint`,
`trainer-sdk dry-run` (with the demo dataset shipped in the wheel), `trainer-sdk bundle`, lint
again with the bundle beside train.py, `trainer-sdk k8s-job`, shell completion.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.s3, pytest.mark.timeout(900)]


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin folder of a fresh venv with the wheel installed with its tools extra."""
    root = tmp_path_factory.mktemp("wheel-install")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    built = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            str(root / "dist"),
            str(ROOT),
        ],
        root,
        env,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = (root / "dist").glob("trainer_sdk-*.whl")
    venv = root / "venv"
    made = _run([sys.executable, "-m", "venv", str(venv)], root, env)
    assert made.returncode == 0, made.stderr
    # The wheel file itself (not a name PyPI could answer with another project's release).
    install = _run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", f"{wheel}[tools]"], root, env
    )
    assert install.returncode == 0, install.stderr[-3000:]
    return venv / "bin"


def test_every_step_of_the_user_guide_works_from_the_wheel(installed: Path, tmp_path: Path) -> None:
    project = tmp_path / "my-trainer"
    project.mkdir()
    assert not project.resolve().is_relative_to(ROOT)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{installed}{os.pathsep}{env.get('PATH', '')}"
    sdk, lint = str(installed / "trainer-sdk"), str(installed / "trainer-lint")

    # The installed packages are the wheel's, not the checkout's.
    where = _run(
        [str(installed / "python"), "-c", "import trainer_tools; print(trainer_tools.__file__)"],
        project,
        env,
    )
    assert where.returncode == 0 and not Path(where.stdout.strip()).is_relative_to(ROOT)

    init = _run([sdk, "init"], project, env)
    assert init.returncode == 0, init.stderr
    assert sorted(p.name for p in project.iterdir()) == ["Dockerfile", "pyproject.toml", "train.py"]

    linted = _run([lint, "train.py"], project, env)
    assert (linted.returncode, linted.stdout) == (0, "All checks passed (2 files).\n"), linted

    dry = _run([sdk, "dry-run", "train.py", "--epochs", "2"], project, env)
    assert dry.returncode == 0, dry.stdout[-4000:] + dry.stderr[-2000:]
    assert "uploaded dataset 'ds_demo_shapes'" in dry.stdout
    assert "verdict: PASS" in dry.stdout
    assert "the demo dataset shipped with trainer-sdk" in dry.stdout

    bundle = _run([sdk, "bundle"], project, env)
    assert bundle.returncode == 0, bundle.stderr
    assert (project / "trainer_sdk.py").stat().st_mode & 0o777 == 0o644
    again = _run([lint, "."], project, env)
    assert (again.returncode, again.stdout) == (0, "All checks passed (2 files).\n"), again

    job = _run(
        [sdk, "k8s-job", "--image", "registry.example/my-trainer:1.0", "--job-id", "1"],
        project,
        env,
    )
    assert job.returncode == 0 and "kind: Job" in job.stdout, job.stderr
    completion = _run([sdk, "completion", "bash"], project, env)
    assert completion.returncode == 0 and "complete -o filenames -F" in completion.stdout
