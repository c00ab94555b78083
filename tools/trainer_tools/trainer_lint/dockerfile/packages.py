"""Does a stage put the SDK in the image: a copied `trainer_sdk.py`, or an installed package?

Installs are read from `RUN` commands (`pip install`, `uv pip install`, `uv sync`, ... from the
vocabulary): a requirement that names `trainer-sdk` (any case, `-`/`_`/`.`, extras, versions,
`name @ url`, a wheel file), or a requirements file / pyproject.toml that names it. Those files are
read from the build context (the Dockerfile's folder) at the path the Dockerfile copies them
from; a file that cannot be read names nothing. A package installed in one stage is in the final
image when the final stage is built from that stage, or copies a folder holding its
site-packages (or its virtual environment) from it.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trainer_tools.trainer_lint.contract import ContractFacts
from trainer_tools.trainer_lint.dockerfile.image import Copy, ImageModel, Run, resolve_path
from trainer_tools.trainer_lint.dockerfile.parser import Stage
from trainer_tools.trainer_lint.dockerfile.words import simple_commands

__all__ = ["Install", "SdkSearch", "canonical_name"]

# Installer options that take a separate value (pip's and uv's command-line syntax).
_VALUE_OPTIONS = frozenset(
    {
        "-c",
        "--constraint",
        "-i",
        "--index-url",
        "--extra-index-url",
        "--index",
        "--default-index",
        "-f",
        "--find-links",
        "-t",
        "--target",
        "--prefix",
        "--root",
        "-p",
        "--python",
        "--trusted-host",
        "--platform",
        "--python-version",
        "--implementation",
        "--abi",
        "--only-binary",
        "--no-binary",
        "--cache-dir",
        "--src",
        "--upgrade-strategy",
        "--progress-bar",
        "--timeout",
        "--retries",
        "--proxy",
        "--log",
        "--extra",
        "--group",
        "--only-group",
        "--directory",
        "--project",
        "--with",
        "-E",
        "--extras",
    }
)
_REQUIREMENT_OPTIONS = frozenset({"-r", "--requirement", "--requirements"})
_EDITABLE_OPTIONS = frozenset({"-e", "--editable"})
# Folders of system executables: an install through them goes to the system site-packages.
_SYSTEM_BIN = frozenset(
    {"/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"}
)
_VENV_COMMANDS = (("python", "-m", "venv"), ("uv", "venv"), ("virtualenv",))
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_NAME = re.compile(r"^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)")


def _table(data: Any, key: str) -> dict[str, Any]:
    """`data[key]` when both are TOML tables, else an empty table (a malformed file names
    nothing; it is not the linter's to judge)."""
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else {}


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def canonical_name(name: str) -> str:
    """PEP 503 normalised project name (`Trainer_SDK` -> `trainer-sdk`)."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Install:
    """A `RUN` that installs the SDK."""

    run: Run
    prefixes: tuple[str, ...]
    """Folders the packages go to besides the system site-packages (venv, --target, --prefix)."""


class SdkSearch:
    """Where the SDK is in a stage and in what it inherits, for one Dockerfile."""

    def __init__(self, model: ImageModel, facts: ContractFacts, context: Path | None) -> None:
        self.model = model
        self.facts = facts
        self.context = context
        self._sdk = canonical_name(facts.sdk_distribution)

    # -- what a requirement names ----------------------------------------------------------------

    def _names_sdk(self, spec: str, run: Run, copies: tuple[Copy, ...]) -> bool:
        egg = re.search(r"[#&]egg=([A-Za-z0-9._-]+)", spec)
        if egg is not None:
            return canonical_name(egg.group(1)) == self._sdk
        base = posixpath.basename(spec.split("?", 1)[0].rstrip("/"))
        if base.endswith((".whl", ".tar.gz", ".zip")):
            return canonical_name(base).startswith(self._sdk + "-")
        if spec in (".", "./") or spec.startswith(("./", "../", "/")) or base == "pyproject.toml":
            folder = spec if base != "pyproject.toml" else posixpath.dirname(spec) or "."
            return self._file_names_sdk(posixpath.join(folder, "pyproject.toml"), run, copies)
        match = _NAME.match(spec)
        return match is not None and canonical_name(match.group(1)) == self._sdk

    def _context_file(self, path: str, run: Run, copies: tuple[Copy, ...]) -> Path | None:
        """The build-context file that a `COPY` before `run` put at `path` (in the image)."""
        if self.context is None:
            return None
        target = resolve_path(path, run.workdir)
        for copy in reversed(copies):
            if copy.from_stage is not None or copy.from_image is not None:
                continue
            if copy.instruction.line > run.instruction.line and copy.stage is run.stage:
                continue
            for source in copy.sources:
                if copy.target_of(source) == target:
                    return self.context / source
                folder = copy.destination.rstrip("/") or "/"
                whole = "." not in posixpath.basename(source.rstrip("/")) or source in (".", "./")
                if whole and target.startswith(folder.rstrip("/") + "/"):
                    return self.context / source / posixpath.relpath(target, folder)
        return None

    def _inside_context(self, path: Path) -> bool:
        """Docker sends only the build context; nothing outside it is read."""
        assert self.context is not None
        try:
            return path.resolve().is_relative_to(self.context.resolve())
        except OSError:
            return False

    def _file_names_sdk(self, path: str, run: Run, copies: tuple[Copy, ...]) -> bool:
        found = self._context_file(path, run, copies)
        if found is None or not self._inside_context(found) or not found.is_file():
            return False
        try:
            text = found.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return False
        if found.name == "pyproject.toml":
            return self._pyproject_names_sdk(text)
        return self._requirements_name_sdk(text, found, depth=0)

    def _pyproject_names_sdk(self, text: str) -> bool:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            return False
        project = _table(data, "project")
        if canonical_name(str(project.get("name", ""))) == self._sdk:
            return True  # the SDK's own source tree
        specs = _strings(project.get("dependencies"))
        for group in _table(project, "optional-dependencies").values():
            specs += _strings(group)
        specs += [
            str(name) for name in _table(_table(_table(data, "tool"), "poetry"), "dependencies")
        ]
        return any(
            (m := _NAME.match(s)) is not None and canonical_name(m.group(1)) == self._sdk
            for s in specs
        )

    def _requirements_name_sdk(self, text: str, path: Path, depth: int) -> bool:
        for raw in text.splitlines():
            line = raw.split(" #", 1)[0].strip()
            if not line or line.startswith("#"):
                continue
            words = line.split()
            if words[0] in _REQUIREMENT_OPTIONS and len(words) > 1 and depth < 5:
                nested = path.parent / words[1]
                if self._inside_context(nested) and nested.is_file():
                    try:
                        nested_text = nested.read_text(encoding="utf-8")
                    except (OSError, UnicodeDecodeError):
                        continue
                    if self._requirements_name_sdk(nested_text, nested, depth + 1):
                        return True
                continue
            if line.startswith("-"):
                continue
            match = _NAME.match(line)
            if match is not None and canonical_name(match.group(1)) == self._sdk:
                return True
            egg = re.search(r"[#&]egg=([A-Za-z0-9._-]+)", line)
            if egg is not None and canonical_name(egg.group(1)) == self._sdk:
                return True
        return False

    # -- installs ---------------------------------------------------------------------------------

    def _normalise(self, word: str) -> str:
        name = posixpath.basename(word)
        for python in self.facts.python_executables:
            if name == python or re.fullmatch(re.escape(python) + r"(\.[0-9]+)+", name):
                return self.facts.python_executables[0]
        return name

    def _installer_arguments(self, command: list[str]) -> list[str] | None:
        words = list(command)
        while words and (words[0] in ("sudo", "exec", "env") or _ASSIGNMENT.match(words[0])):
            words = words[1:]
        normal = [self._normalise(words[0]), *words[1:]] if words else []
        for pattern in self.facts.package_installers:
            if tuple(normal[: len(pattern)]) == pattern:
                return normal[len(pattern) :]
        return None

    def _environment_of(self, command: list[str], run: Run) -> list[str]:
        """Environments an installer may write into: the one of an installer called by its path
        (`/opt/venv/bin/pip` -> `/opt/venv`), and those whose `bin` is on the stage's `PATH`."""
        found: list[str] = []
        words = [w for w in command if not _ASSIGNMENT.match(w)]
        if words and posixpath.dirname(words[0]).endswith("/bin"):
            found.append(posixpath.dirname(posixpath.dirname(words[0])))
        for entry in (run.variables.get("PATH") or "").split(":"):
            folder = entry.rstrip("/")
            if folder.endswith("/bin") and folder not in _SYSTEM_BIN:
                found.append(posixpath.dirname(folder))
        return [resolve_path(f, run.workdir) for f in found if f]

    def installs(self, run: Run, copies: tuple[Copy, ...]) -> Install | None:
        """The install of the SDK in one `RUN`, if it has one."""
        for command in simple_commands(run.script):
            arguments = self._installer_arguments(command)
            if arguments is None:
                continue
            prefixes: list[str] = []
            specs: list[str] = []
            files: list[str] = []
            index = 0
            while index < len(arguments):
                word = arguments[index]
                option, equals, attached = word.partition("=")
                value = attached if equals else None
                if option in _REQUIREMENT_OPTIONS | _EDITABLE_OPTIONS | _VALUE_OPTIONS:
                    if value is None:
                        index += 1
                        value = arguments[index] if index < len(arguments) else ""
                    if option in _REQUIREMENT_OPTIONS:
                        files.append(value)
                    elif option in _EDITABLE_OPTIONS:
                        specs.append(value)
                    elif option in ("-t", "--target", "--prefix", "--root"):
                        prefixes.append(resolve_path(value, run.workdir))
                elif not word.startswith("-"):
                    specs.append(word)
                index += 1
            if not specs and not files:
                # `uv sync`, `poetry install`, `pipenv install`: the project in the folder.
                specs.append(".")
            named = any(self._names_sdk(s, run, copies) for s in specs) or any(
                self._file_names_sdk(f, run, copies) for f in files
            )
            if named:
                return Install(run, tuple(prefixes + self._environment_of(command, run)))
        return None

    def stage_installs(self, stage: Stage) -> list[Install]:
        """Installs of the SDK in a stage or the stages it is built from."""
        view = self.model.view(stage)
        return [i for run in view.runs if (i := self.installs(run, view.copies)) is not None]

    # -- where installed packages live -------------------------------------------------------------

    def _environments(self, stage: Stage) -> list[str]:
        """Virtual environments a stage creates or names (`python -m venv /opt/venv`, ...)."""
        view = self.model.view(stage)
        found = [
            resolve_path(v, "/")
            for k, v in view.variables.items()
            if k in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT") and v
        ]
        for run in view.runs:
            for command in simple_commands(run.script):
                normal = [self._normalise(command[0]), *command[1:]] if command else []
                for pattern in _VENV_COMMANDS:
                    if tuple(normal[: len(pattern)]) == pattern:
                        rest = [w for w in normal[len(pattern) :] if not w.startswith("-")]
                        found.append(resolve_path(rest[0] if rest else ".venv", run.workdir))
                if normal[:2] == ["uv", "sync"]:
                    found.append(resolve_path(".venv", run.workdir))
        return found

    def reaches_packages(self, source: str, stage: Stage, installs: list[Install]) -> bool:
        """A `COPY --from=<stage> <source>` carries the stage's installed packages."""
        path = resolve_path(source, "/")
        parts = [p for p in path.split("/") if p]
        if {"site-packages", "dist-packages"} & set(parts):
            return True
        patterns = [*self.facts.site_packages_dirs, *self._environments(stage)]
        patterns += [p for i in installs for p in i.prefixes]
        for pattern in patterns:
            wanted = [p for p in pattern.split("/") if p]
            common = min(len(parts), len(wanted))
            if all(fnmatch.fnmatchcase(parts[i], wanted[i]) for i in range(common)):
                return True  # the source holds the folder, or is inside it
        return False

    # -- the SDK in a stage ------------------------------------------------------------------------

    def bundle_copies(self, stage: Stage) -> Iterator[tuple[Copy, str]]:
        """(copy, target path) of every `trainer_sdk.py` a stage's view copies in."""
        for copy in self.model.view(stage).copies:
            for source in copy.sources:
                name = posixpath.basename(source.rstrip("/"))
                if fnmatch.fnmatchcase(self.facts.sdk_bundle, name):
                    target = copy.target_of(source)
                    if name != self.facts.sdk_bundle:  # a glob such as *.py
                        target = posixpath.join(posixpath.dirname(target), self.facts.sdk_bundle)
                    yield copy, target

    def folder_copies(self, stage: Stage) -> list[Copy]:
        """Copies of whole folders from the build context (they may hold `trainer_sdk.py`)."""
        out: list[Copy] = []
        for copy in self.model.view(stage).copies:
            if copy.from_stage is not None or copy.from_image is not None:
                continue
            for source in copy.sources:
                name = posixpath.basename(source.rstrip("/"))
                if source in (".", "./") or source.endswith("/") or "." not in name:
                    out.append(copy)
                    break
        return out

    def other_routes(self, stage: Stage) -> bool:
        """The SDK reaches the stage some other way than a `trainer_sdk.py` copied from the
        build context: a folder copy, an install, or a copy from another stage."""
        if self.folder_copies(stage) or self.stage_installs(stage):
            return True
        for copy in self.model.view(stage).copies:
            origin = copy.from_stage
            if origin is None:
                continue
            installs = self.stage_installs(origin)
            if installs and any(self.reaches_packages(s, origin, installs) for s in copy.sources):
                return True
            locations = [target for _, target in self.bundle_copies(origin)]
            for source in copy.sources:
                folder = resolve_path(source, "/")
                if any(t == folder or t.startswith(folder.rstrip("/") + "/") for t in locations):
                    return True
        return False

    def has_sdk(self, stage: Stage) -> bool:
        """The SDK is in the stage's file system at its end."""
        return any(True for _ in self.bundle_copies(stage)) or self.other_routes(stage)

    def stranded_installs(self, final: Stage) -> list[Install]:
        """Installs of the SDK in stages whose packages never reach `final`."""
        chain = {s.index for s in self.model.view(final).chain}
        return [
            install
            for stage in self.model.dockerfile.stages
            if stage.index not in chain
            for install in self.stage_installs(stage)
            if install.run.stage is stage
        ]
