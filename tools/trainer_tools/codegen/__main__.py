"""Command line of the code generator: `python -m trainer_tools.codegen [--check]`."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from trainer_tools.codegen import targets
from trainer_tools.codegen.context import PACKAGE, GenContext
from trainer_tools.drift import report_drift

Target = Callable[[GenContext], dict[str, str]]

ROOT = Path(__file__).resolve().parents[3]


def discover_targets() -> list[tuple[str, Target]]:
    """Every module of `trainer_tools.codegen.targets`, in name order."""
    found: list[tuple[str, Target]] = []
    for info in sorted(pkgutil.iter_modules(targets.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{targets.__name__}.{info.name}")
        found.append((info.name, module.generate))
    return found


def render(schema_dir: Path) -> dict[str, str]:
    """All generated files, relative path under `generated/` -> text."""
    ctx = GenContext.load(schema_dir)
    files: dict[str, str] = {}
    for name, generate in discover_targets():
        for rel, text in generate(ctx).items():
            path = f"{PACKAGE}/{rel}"
            if path in files:
                raise SystemExit(f"codegen target {name!r} writes {path}, already written")
            files[path] = text
    return {path: _format(path, text) for path, text in sorted(files.items())}


def _format(path: str, text: str) -> str:
    """Python output formatted by ruff (deterministic), so generated code reads like code."""
    if not path.endswith(".py"):
        return text
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "format",
            "--quiet",
            "--line-length",
            "100",
            "--stdin-filename",
            path,
            "-",
        ],
        input=text,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"ruff could not format generated {path}:\n{done.stderr}")
    return done.stdout


def write_tree(files: dict[str, str], out: Path) -> None:
    """Replace `out/trainer_contract` with exactly `files` (stale files disappear)."""
    package_dir = out / PACKAGE
    staging = Path(tempfile.mkdtemp(prefix=".codegen-", dir=out))
    try:
        for rel, text in files.items():
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        old = None
        if package_dir.exists():
            old = out / f".old-{PACKAGE}"
            shutil.rmtree(old, ignore_errors=True)
            package_dir.rename(old)
        (staging / PACKAGE).rename(package_dir)
        if old is not None:
            shutil.rmtree(old)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def read_tree(out: Path) -> dict[str, str]:
    """The committed generated files (caches excluded)."""
    files: dict[str, str] = {}
    base = out / PACKAGE
    if not base.exists():
        return files
    for path in sorted(base.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            files[path.relative_to(out).as_posix()] = path.read_text(encoding="utf-8")
    return files


def check(files: dict[str, str], out: Path) -> int:
    """Print how `out` differs from `files`; 0 when identical."""
    want = {f"generated/{rel}": text for rel, text in files.items()}
    have = {f"generated/{rel}": text for rel, text in read_tree(out).items()}
    return report_drift(
        want, have, fix="make generate", source="schemas/", what="generated file(s)"
    )


def main(argv: list[str] | None = None) -> int:
    """Generate (default) or check `generated/` against `schemas/`."""
    parser = argparse.ArgumentParser(prog="python -m trainer_tools.codegen", description=__doc__)
    parser.add_argument("--schemas", type=Path, default=ROOT / "schemas", help="schema folder")
    parser.add_argument("--out", type=Path, default=ROOT / "generated", help="output folder")
    parser.add_argument("--check", action="store_true", help="fail if --out differs; write nothing")
    args = parser.parse_args(argv)
    files = render(args.schemas)
    if args.check:
        return check(files, args.out)
    args.out.mkdir(parents=True, exist_ok=True)
    write_tree(files, args.out)
    print(f"wrote {len(files)} files to {args.out}/{PACKAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
