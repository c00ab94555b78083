"""Command line of the bundler: `python -m trainer_tools.bundle [--out FILE] [--check]`."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from trainer_tools.bundle.render import project_metadata, render_bundle
from trainer_tools.bundle.sources import collect_package_sources, collect_sources
from trainer_tools.drift import report_drift

ROOT = Path(__file__).resolve().parents[3]
DEFAULT_OUT = Path("dist") / "trainer_sdk.py"


def build(root: Path) -> str:
    """The bundle text for the project at `root`."""
    sources = collect_sources(root)
    if not (root / "pyproject.toml").is_file():
        raise FileNotFoundError(f"no pyproject.toml in {root}: pass --root the project folder")
    version, dependencies = project_metadata(root)
    return render_bundle(sources, version, dependencies)


BUNDLE_MODE = 0o644
"""Readable by everyone: the image copies it as root and runs it as a non-root `USER`."""


def build_installed() -> str:
    """The bundle of the installed packages (a wheel install has no project folder): the
    packages' own folders, the version and dependencies from the distribution's metadata."""
    import importlib.metadata

    import trainer_contract
    import trainer_sdk

    folders = [Path(trainer_sdk.__file__).parent, Path(trainer_contract.__file__).parent]
    sources = collect_package_sources(folders)
    distribution = importlib.metadata.distribution("trainer-sdk")
    dependencies = [
        r.split(";", 1)[0].strip() for r in distribution.requires or [] if "extra" not in r
    ]
    return render_bundle(sources, distribution.version, dependencies)


def write_atomically(path: Path, text: str) -> None:
    """Write through a temporary file and a rename: a reader never sees half a bundle. The
    file is 0644 (mkstemp's 0600 would make `COPY trainer_sdk.py ./` unreadable to `USER
    appuser`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
        os.chmod(temporary, BUNDLE_MODE)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def check(text: str, path: Path) -> int:
    """0 when `path` holds exactly `text`; otherwise print what differs and how to fix it."""
    have = {str(path): path.read_text(encoding="utf-8")} if path.is_file() else {}
    return report_drift(
        {str(path): text},
        have,
        fix="make bundle",
        source="sdk/ and generated/",
        what="bundle file",
        committed=False,
    )


def main(argv: list[str] | None = None) -> int:
    """Build `dist/trainer_sdk.py` (default) or check it against the current sources."""
    parser = argparse.ArgumentParser(
        prog="python -m trainer_tools.bundle",
        description="Write the single-file SDK (trainer_sdk + trainer_contract in one file).",
    )
    parser.add_argument(
        "--root", type=Path, default=ROOT, help="project folder (default: this one)"
    )
    parser.add_argument(
        "--out", type=Path, default=None, help=f"output file (default: ROOT/{DEFAULT_OUT})"
    )
    parser.add_argument("--check", action="store_true", help="fail if --out differs; write nothing")
    args = parser.parse_args(argv)
    out: Path = args.out if args.out is not None else args.root / DEFAULT_OUT
    try:
        text = build(args.root)
    except (FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.check:
        return check(text, out)
    write_atomically(out, text)
    print(f"wrote {out} ({len(text.encode('utf-8')) // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
