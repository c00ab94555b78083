"""`trainer-lint [PATH ...]`: check trainers statically against the lifecycle contract.

Exit status: 0 clean, 1 findings, 2 usage or configuration error, or a file that does not parse.
"""

from __future__ import annotations

import argparse
import functools
import sys
from importlib import metadata
from pathlib import Path

from trainer_tools.terminal import quiet_pipe
from trainer_tools.trainer_lint.config import ConfigError, Settings, find_pyproject, load_settings
from trainer_tools.trainer_lint.contract import facts
from trainer_tools.trainer_lint.docs import render_rule
from trainer_tools.trainer_lint.engine import (
    ENTRY_FILE,
    FileResult,
    collect_files,
    lint_bytes,
    lint_file,
)
from trainer_tools.trainer_lint.reporters import FORMATS, Report
from trainer_tools.trainer_lint.rules import registry

__all__ = ["EXIT_CLEAN", "EXIT_FINDINGS", "EXIT_USAGE", "main"]

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
STDIN = Path("-")
"""The path that means standard input (`trainer-lint -`)."""


def _codes(value: str) -> list[str]:
    return [c.strip() for c in value.split(",") if c.strip()]


def parser() -> argparse.ArgumentParser:
    """The argument parser of trainer-lint (shell completion is generated from it)."""
    result = argparse.ArgumentParser(
        prog="trainer-lint",
        description="Check, without running it, that a train.py keeps the platform's lifecycle "
        "contract (report_started, report_progress per epoch, report_completed, report_failed, "
        "close, exit codes, ...), and that its Dockerfile runs it as the platform expects (the "
        "Dockerfile beside train.py is linted with it).",
        epilog="Exit status: 0 clean (or only hints), 1 findings, 2 usage error or a file that "
        "does not parse.",
    )
    result.add_argument(
        "paths",
        nargs="*",
        type=Path,
        help=f"files or folders (default: {ENTRY_FILE}); `-` reads the source from standard input",
    )
    result.add_argument(
        "--stdin-filename",
        metavar="NAME",
        default=None,
        help=f"the name standard input is linted as (default: {ENTRY_FILE}; a Dockerfile's name "
        "lints it as a Dockerfile, with the working folder as its build context)",
    )
    result.add_argument("--format", choices=sorted(FORMATS), default="text", help="output format")
    result.add_argument("--select", type=_codes, help="comma-separated codes or prefixes to check")
    result.add_argument("--extend-select", type=_codes, help="codes to add to the selection")
    result.add_argument("--ignore", type=_codes, help="comma-separated codes or prefixes to skip")
    result.add_argument(
        "--config", type=Path, help="pyproject.toml to read [tool.trainer-lint] from"
    )
    result.add_argument("--isolated", action="store_true", help="ignore every pyproject.toml")
    result.add_argument("--output-file", type=Path, help="write the report here instead of stdout")
    result.add_argument("--exit-zero", action="store_true", help="exit 0 even with findings")
    result.add_argument("--explain", metavar="CODE", help="print the documentation of a rule")
    result.add_argument(
        "--list-rules", action="store_true", help="print every rule code and summary"
    )
    result.add_argument("--version", action="version", version=f"trainer-lint {_version()}")
    return result


@functools.cache
def _version() -> str:
    """The installed distribution's version, read once per process (reading the metadata cost
    more than parsing the arguments)."""
    try:
        return metadata.version("trainer-sdk")
    except metadata.PackageNotFoundError:
        return "unknown"


def _settings(args: argparse.Namespace) -> Settings:
    if args.isolated:
        base = Settings()
    else:
        pyproject = args.config if args.config is not None else find_pyproject(Path.cwd())
        if args.config is not None and not args.config.is_file():
            raise ConfigError(f"--config {args.config}: no such file")
        base = load_settings(pyproject)
    return Settings(
        select=tuple(args.select) if args.select is not None else base.select,
        extend_select=(*base.extend_select, *(args.extend_select or ())),
        ignore=(*base.ignore, *(args.ignore or ())),
        exclude=base.exclude,
        per_file_ignores=base.per_file_ignores,
        source=base.source,
    )


class _Display:
    """The path relative to the working folder when it is inside it (portable in reports).

    The working folder is resolved once per run, and each folder once: a run over a tree of
    trainers resolves every file's folder, and resolving walks the path's every component.
    """

    def __init__(self) -> None:
        self._cwd: Path | None = None
        self._folders: dict[Path, str | None] = {}

    def __call__(self, path: Path) -> str:
        parent = path.parent
        if parent not in self._folders:
            self._folders[parent] = self._relative(parent)
        folder = self._folders[parent]
        if folder is None:
            return path.as_posix()
        return f"{folder}/{path.name}" if folder else path.name

    def _relative(self, parent: Path) -> str | None:
        """The folder resolved (not the file: a symbolic link is reported by its own name),
        relative to the working folder; None when outside it. Once per folder, not per file."""
        if self._cwd is None:
            self._cwd = Path.cwd().resolve()
        try:
            relative = parent.resolve().relative_to(self._cwd).as_posix()
        except ValueError:
            return None
        return "" if relative == "." else relative


def _stdin(args: argparse.Namespace, settings: Settings) -> FileResult:
    """Lint standard input as `--stdin-filename` (default: the entry file) in the working folder."""
    name = Path(args.stdin_filename or ENTRY_FILE)
    data = sys.stdin.buffer.read()
    return lint_bytes(
        data,
        Path.cwd() / name,
        settings,
        explicit=True,
        display=name.as_posix(),
        context=Path.cwd(),
    )


def _explain(code: str) -> int:
    rules = facts().rules
    wanted = code.strip().upper()
    if wanted not in rules:
        by_name = {r.name: c for c, r in rules.items()}
        if code.strip() not in by_name:
            print(
                f"trainer-lint: unknown rule {code!r}; rules are {', '.join(rules)}",
                file=sys.stderr,
            )
            return EXIT_USAGE
        wanted = by_name[code.strip()]
    print(render_rule(wanted, heading="#"), end="")
    return EXIT_CLEAN


def main(argv: list[str] | None = None) -> int:
    """Run trainer-lint; returns the exit status (quiet when its reader closes the pipe)."""
    return quiet_pipe(lambda: _main(argv))


def _main(argv: list[str] | None) -> int:
    args = parser().parse_args(argv)
    if args.explain:
        return _explain(args.explain)
    rules = facts().rules
    if args.list_rules:
        for code, rule in rules.items():
            print(f"{code}  {rule.severity:<7}  {rule.name}: {rule.summary}")
        return EXIT_CLEAN
    try:
        settings = _settings(args)
        enabled = settings.enabled(list(registry()))
    except ConfigError as exc:
        print(f"trainer-lint: {exc}", file=sys.stderr)
        return EXIT_USAGE
    paths: list[Path] = args.paths or [Path(ENTRY_FILE)]
    missing = [p for p in paths if p != STDIN and not p.exists() and not p.is_symlink()]
    if missing:
        hint = (
            f"; run it in the trainer's folder or pass the path, e.g. `trainer-lint path/to/{ENTRY_FILE}`"
            if not args.paths
            else ""
        )
        for path in missing:
            print(f"trainer-lint: {path.as_posix()}: no such file or folder{hint}", file=sys.stderr)
        return EXIT_USAGE
    display = _Display()
    try:
        results = [
            _stdin(args, settings)
            if path == STDIN
            else lint_file(path, settings, explicit=explicit, display=display(path))
            for path, explicit in collect_files(paths, settings)
        ]
    except ConfigError as exc:
        print(f"trainer-lint: {exc}", file=sys.stderr)
        return EXIT_USAGE
    report = Report(results=results, rules=rules, enabled=enabled, version=_version())
    output = FORMATS[args.format](report)
    if args.output_file is not None:
        args.output_file.write_text(output, encoding="utf-8")
    else:
        sys.stdout.write(output)
    if report.errors:
        if args.format != "text" or args.output_file is not None:
            for error in report.errors:
                print(error, file=sys.stderr)
        return EXIT_USAGE
    if report.failing and not args.exit_zero:  # hints are shown, never fail the run
        return EXIT_FINDINGS
    return EXIT_CLEAN


if __name__ == "__main__":
    sys.exit(main())
