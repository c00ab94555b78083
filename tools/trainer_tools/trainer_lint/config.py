"""Settings: `[tool.trainer-lint]` of the nearest pyproject.toml, then command-line options.

Keys: `select` and `ignore` (codes or code prefixes, `ALL`), `extend-select`, `exclude` (glob
patterns of paths to skip when walking folders) and `per-file-ignores` (glob -> codes). An unknown
key or code is an error that names it and lists what is allowed; a silently ignored setting would
let a rule be believed active when it is not.
"""

from __future__ import annotations

import fnmatch
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

__all__ = ["ConfigError", "Settings", "find_pyproject", "load_settings", "resolve_codes"]

SECTION = "trainer-lint"
KEYS = ("select", "extend-select", "ignore", "exclude", "per-file-ignores")


class ConfigError(Exception):
    """Bad configuration or option value; the message names it and says what is allowed."""


@dataclass(frozen=True)
class Settings:
    """The effective settings of one run."""

    select: tuple[str, ...] = ("ALL",)
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    per_file_ignores: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    source: str | None = None
    """The pyproject.toml the settings came from, if any."""

    def enabled(self, codes: Iterable[str]) -> frozenset[str]:
        """The codes this run reports. Hint rules (severity `hint`) are opt-in: only a
        selector naming the full code (`--extend-select TRL027`) turns one on; `ALL` and
        prefixes leave them out, so that a hint never changes what an existing setup reports."""
        from trainer_tools.trainer_lint.contract import facts

        all_codes = list(codes)
        rules = facts().rules
        hints = {c for c in all_codes if c in rules and rules[c].severity == "hint"}
        named = {s.strip().upper() for s in (*self.select, *self.extend_select)}
        chosen = resolve_codes(self.select, all_codes, "select")
        chosen |= resolve_codes(self.extend_select, all_codes, "extend-select")
        chosen -= hints - named
        chosen -= resolve_codes(self.ignore, all_codes, "ignore")
        return frozenset(chosen)

    def ignored_for(self, path: str, codes: Iterable[str]) -> frozenset[str]:
        """Codes switched off for one file by `per-file-ignores`."""
        all_codes = list(codes)
        out: set[str] = set()
        posix = PurePath(path).as_posix()
        for pattern, selected in self.per_file_ignores.items():
            if _matches(posix, pattern):
                out |= resolve_codes(selected, all_codes, f"per-file-ignores[{pattern!r}]")
        return frozenset(out)

    def excluded(self, path: Path) -> bool:
        """The path matches an `exclude` pattern."""
        if not self.exclude:
            return False  # no pattern: no path made into text
        posix = path.as_posix()
        return any(_matches(posix, pattern) for pattern in self.exclude)


def _matches(posix: str, pattern: str) -> bool:
    name = posix.rsplit("/", 1)[-1]
    return (
        fnmatch.fnmatch(posix, pattern)
        or fnmatch.fnmatch(name, pattern)
        or fnmatch.fnmatch(posix, f"*/{pattern}")
        or fnmatch.fnmatch(posix, f"{pattern.rstrip('/')}/*")
        or fnmatch.fnmatch(posix, f"*/{pattern.rstrip('/')}/*")
    )


def resolve_codes(selectors: Iterable[str], codes: list[str], where: str) -> set[str]:
    """Codes matching selectors (`TRL004`, a prefix such as `TRL00`, or `ALL`)."""
    out: set[str] = set()
    for raw in selectors:
        selector = raw.strip().upper()
        if not selector:
            continue
        if selector == "ALL":
            out |= set(codes)
            continue
        matched = {c for c in codes if c.startswith(selector)}
        if not matched:
            raise ConfigError(
                f"{where}: {raw!r} matches no rule code; codes are {codes[0]}..{codes[-1]} "
                "(see `trainer-lint --explain CODE`)"
            )
        out |= matched
    return out


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml at or above `start`."""
    current = start.resolve()
    if current.is_file():
        current = current.parent
    for folder in (current, *current.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def _strings(value: Any, key: str, source: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ConfigError(f'{source}: [tool.{SECTION}] {key} must be a list of strings, e.g. ["TRL0"]')


def load_settings(pyproject: Path | None) -> Settings:
    """Settings from `[tool.trainer-lint]` of `pyproject` (defaults when None or absent)."""
    if pyproject is None:
        return Settings()
    source = str(pyproject)
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    table = data.get("tool", {}).get(SECTION)
    if table is None:
        return Settings()
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: [tool.{SECTION}] must be a table")
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise ConfigError(
            f"{source}: unknown key(s) {', '.join(unknown)} in [tool.{SECTION}]; "
            f"allowed: {', '.join(KEYS)}"
        )
    per_file: dict[str, tuple[str, ...]] = {}
    raw_per_file = table.get("per-file-ignores", {})
    if not isinstance(raw_per_file, dict):
        raise ConfigError(f"{source}: [tool.{SECTION}] per-file-ignores must be a table")
    for pattern, codes in raw_per_file.items():
        per_file[pattern] = _strings(codes, f"per-file-ignores[{pattern!r}]", source)
    return Settings(
        select=_strings(table.get("select", ["ALL"]), "select", source),
        extend_select=_strings(table.get("extend-select", []), "extend-select", source),
        ignore=_strings(table.get("ignore", []), "ignore", source),
        exclude=_strings(table.get("exclude", []), "exclude", source),
        per_file_ignores=per_file,
        source=source,
    )
