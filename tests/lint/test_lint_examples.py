"""Every example under examples/ (trainers and Dockerfiles) is lint-clean: CI runs this test, so
CI lints the examples without a Makefile. examples/broken/ is broken on purpose (dry-run tests)."""

from __future__ import annotations

from pathlib import Path

from trainer_tools.trainer_lint.config import Settings
from trainer_tools.trainer_lint.engine import collect_files, is_dockerfile, lint_file

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def test_examples_are_lint_clean() -> None:
    settings = Settings(exclude=("broken",))
    files = list(collect_files([EXAMPLES], settings))
    results = [
        lint_file(path, settings, explicit=False, display=path.relative_to(ROOT).as_posix())
        for path, _ in files
    ]
    problems = [f"{r.path}: {r.error}" for r in results if r.error is not None]
    problems += [
        f"{f.path}:{f.line}:{f.column}: {f.code} {f.message}" for r in results for f in r.findings
    ]
    assert problems == [], "\n".join(problems)
    linted = [path.relative_to(EXAMPLES).as_posix() for path, _ in files]
    assert not any(name.startswith("broken/") for name in linted)
    # The test must see what it claims to check: each example's trainer and Dockerfile.
    trainers = sorted(p.parent.name for p, _ in files if p.name == "train.py")
    dockerfiles = sorted(p.parent.name for p, _ in files if is_dockerfile(p))
    assert len(trainers) >= 3, linted
    assert set(dockerfiles) <= set(trainers)
    assert dockerfiles, linted


def test_the_broken_examples_are_what_the_exclusion_skips() -> None:
    """The exclusion is not hiding anything else: without it, only broken/ has findings."""
    settings = Settings()
    dirty = {
        path.relative_to(EXAMPLES).parts[0]
        for path, _ in collect_files([EXAMPLES], settings)
        if lint_file(path, settings, explicit=False).findings
    }
    assert dirty <= {"broken"}
